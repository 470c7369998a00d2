// Runs for a while, printing ticks, then raises SIGTERM with the default action: the restored process must die by
// that signal and its parent must see it (a shell shows 143).
// usage: killself [TICKS=30] [MS=50]
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  int ticks = argc > 1 ? atoi(argv[1]) : 30;
  long ms = argc > 2 ? atol(argv[2]) : 50;
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  for (int i = 0; i < ticks; i++) {
    printf("tick %d\n", i);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  printf("killself raising SIGTERM\n");
  fflush(stdout);
  signal(SIGTERM, SIG_DFL);
  raise(SIGTERM);
  return 0;
}
