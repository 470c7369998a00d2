// Test launcher, not a target: stands for `om run` just before its exec. It holds a close-on-exec pipe end on fd 4
// whose other end it does not hold (as om holds the runtime's dup of a piped stdout), and on a line on stdin execs
// PROGRAM (same PID), whose exec closes fd 4.
// usage: lateexec PROGRAM [ARGS...]
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: lateexec PROGRAM [ARGS...]\n"); return 2; }
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) { perror("pipe2"); return 127; }
  if (ends[1] != 4) {
    if (dup3(ends[1], 4, O_CLOEXEC) != 4) { perror("dup3"); return 127; }
    close(ends[1]);
  }
  if (ends[0] != 4) close(ends[0]);
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL) return 0;
  execvp(argv[1], argv + 1);
  perror(argv[1]);
  return 127;
}
