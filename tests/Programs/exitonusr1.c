// Prints "tick N" every MS until it is sent SIGUSR1 (blocked, taken by sigtimedwait between ticks, so it is never
// lost however late it comes), then prints "exitonusr1 exiting with CODE after N ticks" and exits with CODE at once:
// an exit a test can cause at a moment of its choosing, such as while the link of a moved copy is cut.
// usage: exitonusr1 CODE [MS=50]
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  int code = argc > 1 ? atoi(argv[1]) : 0;
  long ms = argc > 2 ? atol(argv[2]) : 50;
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &usr1, NULL) != 0) return 100;
  for (long tick = 0;; tick++) {
    printf("tick %ld\n", tick);
    fflush(stdout);
    if (sigtimedwait(&usr1, NULL, &pause) == SIGUSR1) {
      printf("exitonusr1 exiting with %d after %ld ticks\n", code, tick + 1);
      fflush(stdout);
      return code;
    }
  }
}
