// Prints a line every 20 ms with a running checksum: the simplest long-running target.
// usage: counter N      N lines, then exits 0
//        counter usr1   lines until SIGUSR1, then "counter stopped after N lines" and exits 0: for tests that move it
//                       as often as they like, however long the machine makes the moves take
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
  if (until_signal) {
    struct sigaction action = { 0 };
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
  }
  unsigned long sum = 1469598103934665603UL;
  struct timespec pause = { 0, 20 * 1000 * 1000 };
  long i = 0;
  for (; until_signal ? !stop : i < n; i++) {
    sum = (sum ^ (unsigned long)i) * 1099511628211UL;
    printf("%ld %016lx\n", i, sum);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  if (until_signal) printf("counter stopped after %ld lines\n", i);
  return 0;
}
