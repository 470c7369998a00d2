// Prints a line every 20 ms with a running checksum: the simplest long-running target.
// usage: counter N [HOLD...]  N lines, then exits 0. HOLD: after its first HOLD lines it waits for SIGUSR1
//                              (blocked, taken by sigwait, printing nothing) before going on, so that a test can act
//                              on it while it surely runs, however slow the machine (N lines take N * 20 ms, and a
//                              slow test may come after the end). Several HOLDs, in increasing order, hold it at each.
//        counter usr1          lines until SIGUSR1, then "counter stopped after N lines" and exits 0: for tests
//                              that move it as often as they like, however long the machine makes the moves take
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_usr1(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  int until_signal = argc > 1 && strcmp(argv[1], "usr1") == 0;
  long n = until_signal ? -1 : argc > 1 ? atol(argv[1]) : 100;
  int holds = until_signal || argc < 3 ? 0 : argc - 2;
  int next_hold = 0;
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (until_signal) {
    struct sigaction action = { 0 };
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
  } else if (holds > 0 && sigprocmask(SIG_BLOCK, &usr1, NULL) != 0) {
    perror("sigprocmask");
    return 1;
  }
  unsigned long sum = 1469598103934665603UL;
  struct timespec pause = { 0, 20 * 1000 * 1000 };
  long i = 0;
  for (; until_signal ? !stop : i < n; i++) {
    sum = (sum ^ (unsigned long)i) * 1099511628211UL;
    printf("%ld %016lx\n", i, sum);
    fflush(stdout);
    if (next_hold < holds && i + 1 == atol(argv[2 + next_hold])) {
      next_hold++;
      int sig;
      if (sigwait(&usr1, &sig) != 0) { perror("sigwait"); return 1; }
    }
    nanosleep(&pause, NULL);
  }
  if (until_signal) printf("counter stopped after %ld lines\n", i);
  return 0;
}
