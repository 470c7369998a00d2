// Prints a line every 20 ms with a running checksum: the simplest long-running target.
// usage: counter N   (N lines, then exits 0)
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100;
  unsigned long sum = 1469598103934665603UL;
  struct timespec pause = { 0, 20 * 1000 * 1000 };
  for (long i = 0; i < n; i++) {
    sum = (sum ^ (unsigned long)i) * 1099511628211UL;
    printf("%ld %016lx\n", i, sum);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  return 0;
}
