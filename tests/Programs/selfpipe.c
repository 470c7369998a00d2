// A process holding both ends of a pipe (the self-pipe pattern of xz and event loops), with bytes left buffered
// in it across a long run: after a checkpoint they must still be there, and the pipe must still work.
// usage: selfpipe ROUNDS [HOLD]
// HOLD: after round HOLD it waits for SIGUSR1 before going on, so a test can checkpoint it at a known round however
// slow the machine (without it, rounds go on every 30 ms and a slow checkpoint may come rounds later).
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 60;
  int hold = argc > 2 ? atoi(argv[2]) : -1;
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (hold >= 0 && sigprocmask(SIG_BLOCK, &usr1, NULL) != 0) { perror("sigprocmask"); return 1; }
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) { perror("pipe2"); return 1; }
  struct timespec pause = { 0, 30 * 1000 * 1000 };
  char buf[64];
  for (int i = 0; i < rounds; i++) {
    int n = snprintf(buf, sizeof buf, "token-%03d;", i);
    if (write(p[1], buf, n) != n) { perror("write"); return 1; }
    if (i % 5 == 4) {  // drain every fifth round: the pipe holds 1-4 tokens most of the time
      char got[256];
      ssize_t r = read(p[0], got, sizeof got - 1);
      if (r < 0) { perror("read"); return 1; }
      got[r] = 0;
      printf("round %d drained: %s\n", i, got);
    } else {
      printf("round %d queued\n", i);
    }
    fflush(stdout);
    if (i == hold) {
      int sig;
      if (sigwait(&usr1, &sig) != 0) { perror("sigwait"); return 1; }
    }
    nanosleep(&pause, NULL);
  }
  char rest[256];
  ssize_t r = read(p[0], rest, sizeof rest);
  printf("left over: %zd bytes; flags %s\n", r < 0 ? 0 : r, (fcntl(p[0], F_GETFL) & O_NONBLOCK) ? "nonblocking" : "blocking");
  return 0;
}
