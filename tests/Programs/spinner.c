// CPU-bound work for balancing tests: spins until it has used SECONDS of CPU time (its own CPU clock, so it needs
// the same work wherever it runs, however fast), prints "spinner done", and exits 0.
// usage: spinner [SECONDS=30]
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 30;
  volatile unsigned long x = 0;
  printf("spinner start\n");
  fflush(stdout);
  while (cpu_seconds() < seconds)
    for (int i = 0; i < 1000000; i++) x += (unsigned long)i * 2654435761u;
  printf("spinner done\n");
  return 0;
}
