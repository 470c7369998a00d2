// Keeps a self-pipe (both ends in this process, write end non-blocking, both close-on-exec), as programs like xz
// do for signal wake-ups. Prints "ready", waits for a line on stdin, then checks the pipe still works and kept its
// flags: prints "selfpipe ok nonblock=1 cloexec=1".
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) || p[0] != 3 || p[1] != 4) return 2;
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  printf("ready\n");
  fflush(stdout);
  char line[64];
  if (!fgets(line, sizeof line, stdin)) return 2;
  char c = 0;
  int ok = write(4, "x", 1) == 1 && read(3, &c, 1) == 1 && c == 'x';
  printf("selfpipe %s nonblock=%d cloexec=%d\n", ok ? "ok" : "broken", (fcntl(4, F_GETFL) & O_NONBLOCK) != 0,
         (fcntl(3, F_GETFD) & FD_CLOEXEC) && (fcntl(4, F_GETFD) & FD_CLOEXEC));
  return 0;
}
