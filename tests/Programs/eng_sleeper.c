// Blocks in one long nanosleep between two lines, to checkpoint a process inside an interrupted syscall.
// usage: eng_sleeper MILLISECONDS
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long ms = argc > 1 ? atol(argv[1]) : 500;
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  printf("sleeping %ld ms\n", ms);
  fflush(stdout);
  int r = nanosleep(&t, NULL);
  printf("woke up: %d\n", r);
  return r == 0 ? 0 : 3;
}
