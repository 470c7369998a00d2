// THREADS threads share one MB-megabyte buffer, each owning a contiguous slice: every round each thread rewrites its
// slice and folds it into a position-weighted sum. The per-round total does not depend on how the buffer is split,
// so `thr_compute 1 MB` and `thr_compute 16 MB` print the same "round N total=..." lines and use the same memory
// (thread stacks are kept small): the benchmarks compare freezing and dumping a 16-thread process with a 1-thread
// one of the same size.
// usage: thr_compute [THREADS=16] [MB=64] [ROUNDS=20] [MS=50] [HOLD]   (MS: pause of the main thread between rounds)
// HOLD: after round HOLD's line the main thread waits for SIGUSR1 (blocked in every thread, taken by sigwait), the
// others at the next round's barrier, so that a test can copy it while it surely runs, however slow the machine.
#include "thr_common.h"

#include <pthread.h>
#include <signal.h>

#define MAX_THREADS 256

typedef struct {
  size_t first, end;  // word range [first, end)
  uint64_t sum;
} slice_t;

static uint64_t *buffer;
static int total_rounds;
static pthread_barrier_t start_round, end_round;
static slice_t slices[MAX_THREADS];

static void *compute(void *argument) {
  slice_t *slice = argument;
  for (int r = 1; r <= total_rounds; r++) {
    pthread_barrier_wait(&start_round);
    uint64_t sum = 0;
    for (size_t i = slice->first; i < slice->end; i++) {
      buffer[i] = buffer[i] * 6364136223846793005ULL + (uint64_t)r;
      sum += (buffer[i] ^ (buffer[i] >> 29)) * (i | 1);
    }
    slice->sum = sum;
    pthread_barrier_wait(&end_round);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 16;
  long mb = argc > 2 ? atol(argv[2]) : 64;
  total_rounds = argc > 3 ? atoi(argv[3]) : 20;
  long ms = argc > 4 ? atol(argv[4]) : 50;
  int hold = argc > 5 ? atoi(argv[5]) : -1;
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (hold >= 0) check_rc(pthread_sigmask(SIG_BLOCK, &usr1, NULL), "pthread_sigmask");  // threads inherit it
  if (threads < 1 || threads > MAX_THREADS || mb < 1 || total_rounds < 1 || ms < 0)
    fail("usage: %s [THREADS=1..%d] [MB>=1] [ROUNDS>=1] [MS>=0]", argv[0], MAX_THREADS);
  size_t words = (size_t)mb << 17;
  buffer = malloc(words * sizeof *buffer);
  if (!buffer) fail("cannot allocate %ld MB", mb);
  for (size_t i = 0; i < words; i++) buffer[i] = i * 0x9E3779B97F4A7C15ULL;

  check_rc(pthread_barrier_init(&start_round, NULL, (unsigned)threads + 1), "barrier_init");
  check_rc(pthread_barrier_init(&end_round, NULL, (unsigned)threads + 1), "barrier_init");
  pthread_attr_t small_stack;
  check_rc(pthread_attr_init(&small_stack), "attr_init");
  check_rc(pthread_attr_setstacksize(&small_stack, 256 * 1024), "setstacksize");
  pthread_t ids[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    slices[t].first = words / (size_t)threads * (size_t)t;
    slices[t].end = t == threads - 1 ? words : words / (size_t)threads * (size_t)(t + 1);
    check_rc(pthread_create(&ids[t], &small_stack, compute, &slices[t]), "pthread_create");
  }
  uint64_t total = 0;
  for (int r = 1; r <= total_rounds; r++) {
    sleep_ms(ms);
    pthread_barrier_wait(&start_round);
    pthread_barrier_wait(&end_round);
    total = 0;
    for (int t = 0; t < threads; t++) total += slices[t].sum;
    printf("round %d total=%016llx\n", r, (unsigned long long)total);
    fflush(stdout);
    if (r == hold) {
      int sig;
      check_rc(sigwait(&usr1, &sig), "sigwait");
    }
  }
  for (int t = 0; t < threads; t++) check_rc(pthread_join(ids[t], NULL), "pthread_join");
  for (int t = 0; t < threads; t++) printf("thread %d sum=%016llx\n", t, (unsigned long long)slices[t].sum);
  printf("thr_compute done threads=%d mb=%ld total=%016llx\n", threads, mb, (unsigned long long)total);
  return 0;
}
