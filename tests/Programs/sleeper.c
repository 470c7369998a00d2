// Spends almost all of its life blocked in nanosleep(): a checkpoint freezes it inside the syscall, and the restored
// copy must restart the sleep and go on printing.
// usage: sleeper [TICKS=40] [MS=50]
//        sleeper usr1 [MS]  ticks until SIGUSR1 (as memticker's "usr1"), so that a test ends it once it is done with it
//                           rather than waiting out a running time
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
  if (until_signal) {
    struct sigaction action = { 0 };
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
  }
  int ticks = until_signal ? -1 : argc > 1 ? atoi(argv[1]) : 40;
  long ms = argc > 2 ? atol(argv[2]) : 50;
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  unsigned long sum = 5381;
  int i;
  for (i = 0; until_signal ? !stop : i < ticks; i++) {
    nanosleep(&pause, NULL);
    sum = sum * 33 + (unsigned long)i;
    printf("tick %d sum=%lu\n", i, sum);
    fflush(stdout);
  }
  printf("sleeper done ticks=%d\n", i);
  return 0;
}
