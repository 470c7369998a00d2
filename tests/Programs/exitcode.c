// Runs for a while, printing ticks, then exits with CODE: the restored process's exit code must reach its parent.
// usage: exitcode CODE [TICKS=30] [MS=50]
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  int code = argc > 1 ? atoi(argv[1]) : 0;
  int ticks = argc > 2 ? atoi(argv[2]) : 30;
  long ms = argc > 3 ? atol(argv[3]) : 50;
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  for (int i = 0; i < ticks; i++) {
    printf("tick %d\n", i);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  printf("exitcode exiting with %d\n", code);
  return code;
}
