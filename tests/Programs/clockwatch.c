// Reads CLOCK_MONOTONIC through the vdso in a tight loop: each round busy-waits until SLICE_MS have passed and does
// fixed work. After a restore the vdso/vvar must still work and time must still go forward. Only deterministic facts
// are printed (never clock values or poll counts).
// usage: clockwatch [ROUNDS=60] [SLICE_MS=30]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

// The busy work's result depends on how often the clock was polled, so it is kept but never printed.
volatile uint64_t work_sink;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 60;
  int64_t slice = (int64_t)(argc > 2 ? atoi(argv[2]) : 30) * 1000000LL;
  uint64_t work = 1469598103934665603ULL;
  int backwards = 0;
  int64_t start = now_ns(), previous = start;
  for (int round = 0; round < rounds; round++) {
    int64_t begin = now_ns();
    int64_t t = begin;
    while (t - begin < slice) {
      for (int i = 0; i < 64; i++) work = (work ^ (uint64_t)i) * 1099511628211ULL;
      int64_t next = now_ns();
      if (next < t) backwards++;
      t = next;
    }
    if (begin < previous) backwards++;
    previous = t;
    printf("round %d elapsed>=slice=%s time_forward=%s\n", round, t - begin >= slice ? "yes" : "no",
           backwards == 0 ? "yes" : "no");
    fflush(stdout);
  }
  work_sink = work;
  int64_t total = now_ns() - start;
  printf("clockwatch done rounds=%d total>=rounds*slice=%s backwards=%d\n", rounds,
         total >= rounds * slice ? "yes" : "no", backwards);
  return backwards == 0 ? 0 : 1;
}
