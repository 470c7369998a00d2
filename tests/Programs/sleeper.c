// Spends almost all of its life blocked in nanosleep(): a checkpoint freezes it inside the syscall, and the restored
// copy must restart the sleep and go on printing.
// usage: sleeper [TICKS=40] [MS=50]
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  int ticks = argc > 1 ? atoi(argv[1]) : 40;
  long ms = argc > 2 ? atol(argv[2]) : 50;
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  unsigned long sum = 5381;
  for (int i = 0; i < ticks; i++) {
    nanosleep(&pause, NULL);
    sum = sum * 33 + (unsigned long)i;
    printf("tick %d sum=%lu\n", i, sum);
    fflush(stdout);
  }
  printf("sleeper done ticks=%d\n", ticks);
  return 0;
}
