// Test launcher, not a target: stands for `om run` just before its exec. It fills MIB MiB of memory (so that the
// kernel takes a while to tear its address space down inside execve), holds a close-on-exec pipe end on fd 4 whose
// other end it does not hold (as om holds a dup of a piped stdout), prints "ready", and on a line on stdin execs
// PROGRAM (same PID). Between the moment /proc/PID/exe names PROGRAM and the end of the exec, fd 4 is still open.
// usage: heavyexec MIB PROGRAM [ARGS...]
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: heavyexec MIB PROGRAM [ARGS...]\n"); return 2; }
  size_t bytes = (size_t)atol(argv[1]) << 20;
  char *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) { perror("mmap"); return 127; }
  memset(memory, 1, bytes);
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) { perror("pipe2"); return 127; }
  if (ends[1] != 4) {
    if (dup3(ends[1], 4, O_CLOEXEC) != 4) { perror("dup3"); return 127; }
    close(ends[1]);
  }
  if (ends[0] != 4) close(ends[0]);
  printf("ready\n");
  fflush(stdout);
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL) return 0;
  execvp(argv[2], argv + 2);
  perror(argv[2]);
  return 127;
}
