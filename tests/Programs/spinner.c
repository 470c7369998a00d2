// CPU-bound work for balancing tests: a fixed amount of work, worth SECONDS of CPU, then prints "spinner done" and
// exits 0. The work is counted in rounds, RATE rounds per second of CPU: given (so that many jobs do exactly the
// same work; `spinner --rate` measures it over a second, alone), or measured over a tenth of a second at the start.
// It counts rounds, not CPU time: a process's CPU clock starts again from zero in the new process that a migration
// restores, so counting CPU time would make every move cost the work done before it.
// usage: spinner [SECONDS=30 [RATE]] | spinner --rate
//        spinner usr1      spins until SIGUSR1, then prints "spinner done" and exits 0 (as memticker's and sleeper's
//                          "usr1"), so that a test ends it once it has seen what it waits for (jobs spread) rather than
//                          waiting out a fixed amount of work; after 300 s of wall clock without the signal it prints
//                          "spinner gave up" and exits 2, so that a test that failed before sending it leaves no job
//                          spinning for the next tests of a shared lab (a test's own bounds are shorter)
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static volatile unsigned long sink;
static volatile sig_atomic_t stop;

static void on_usr1(int sig) {
  (void)sig;
  stop = 1;
}

static void round_of_work(void) {
  unsigned long x = sink;
  // Each step depends on the last (no closed form for the compiler to find).
  for (int i = 0; i < 100000; i++) x = x * 6364136223846793005ul + (unsigned long)i;
  sink = x;
}

// Rounds per second of CPU, measured over `sample` seconds of this process's CPU time.
static double measure_rate(double sample) {
  double start = cpu_seconds();
  unsigned long rounds = 0;
  while (cpu_seconds() - start < sample) {
    round_of_work();
    rounds++;
  }
  return rounds / (cpu_seconds() - start);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--rate") == 0) {
    printf("%.0f\n", measure_rate(1.0));
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "usr1") == 0) {
    struct sigaction action = { 0 };
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
    printf("spinner start\n");
    fflush(stdout);
    // The wall clock, not the CPU clock: a restored copy's CPU clock starts again from zero.
    time_t give_up = time(NULL) + 300;
    for (unsigned long done = 0; !stop; done++) {
      round_of_work();
      if (done % 64 == 0 && time(NULL) >= give_up) {
        printf("spinner gave up\n");
        return 2;
      }
    }
    printf("spinner done\n");
    return 0;
  }
  double seconds = argc > 1 ? atof(argv[1]) : 30;
  printf("spinner start\n");
  fflush(stdout);
  double rate = argc > 2 ? atof(argv[2]) : measure_rate(0.1);
  unsigned long total = (unsigned long)(rate * seconds);
  for (unsigned long done = 0; done < total; done++) round_of_work();
  printf("spinner done\n");
  return 0;
}
