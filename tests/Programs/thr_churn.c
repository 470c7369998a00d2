// Threads are created and exit all the time, so that a freeze catches some being born and some dying: each round
// the main thread starts WORKERS joinable workers one after another (a few ms apart); each worker starts one
// detached helper, works, sleeps and exits; the main thread joins the workers in order and waits for the helpers.
// Totals depend only on the arguments, never on timing: one "round N" line per round, then the totals.
// usage: thr_churn [ROUNDS=40] [MS=20] [WORKERS=6]
#include "thr_common.h"

#include <pthread.h>
#include <stdatomic.h>

static long interval_ms;
static pthread_mutex_t helpers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t helpers_gone = PTHREAD_COND_INITIALIZER;
static int helpers_running;
static uint64_t helpers_sum;  // added to under helpers_lock: order-free, so the total does not depend on timing
static atomic_long created, exited;

typedef struct {
  int round;
  int index;
} job_t;

static uint64_t work(int round, int index, int salt) {
  uint64_t sum = MIX_SEED;
  for (int i = 0; i < 5000; i++) sum = mix(sum, (uint64_t)(round * 100000 + index * 1000 + salt * 7 + i));
  return sum;
}

static void *helper(void *argument) {
  job_t job = *(job_t *)argument;
  free(argument);
  uint64_t value = work(job.round, job.index, 2);
  sleep_ms(interval_ms / 3);
  check_rc(pthread_mutex_lock(&helpers_lock), "lock");
  helpers_sum += value;
  helpers_running--;
  atomic_fetch_add(&exited, 1);
  check_rc(pthread_cond_signal(&helpers_gone), "signal");
  check_rc(pthread_mutex_unlock(&helpers_lock), "unlock");
  return NULL;
}

static void *worker(void *argument) {
  job_t *job = argument;
  job_t *copy = malloc(sizeof *copy);
  if (!copy) fail("malloc");
  *copy = *job;
  pthread_attr_t detached;
  check_rc(pthread_attr_init(&detached), "attr_init");
  check_rc(pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED), "setdetachstate");
  check_rc(pthread_mutex_lock(&helpers_lock), "lock");
  helpers_running++;
  check_rc(pthread_mutex_unlock(&helpers_lock), "unlock");
  pthread_t helper_thread;
  check_rc(pthread_create(&helper_thread, &detached, helper, copy), "pthread_create(helper)");
  atomic_fetch_add(&created, 1);
  pthread_attr_destroy(&detached);
  uint64_t value = work(job->round, job->index, 1);
  sleep_ms(interval_ms / 2);
  atomic_fetch_add(&exited, 1);
  return (void *)(uintptr_t)value;
}

int main(int argc, char **argv) {
  int rounds;
  parse_rounds(argc, argv, &rounds, &interval_ms, 40, 20);
  int workers = argc > 3 ? atoi(argv[3]) : 6;
  if (workers < 1 || workers > 64) fail("WORKERS must be 1..64");
  pthread_t threads[64];
  job_t jobs[64];
  uint64_t joined_sum = MIX_SEED;
  for (int r = 1; r <= rounds; r++) {
    for (int i = 0; i < workers; i++) {
      jobs[i] = (job_t){ r, i };
      check_rc(pthread_create(&threads[i], NULL, worker, &jobs[i]), "pthread_create(worker)");
      atomic_fetch_add(&created, 1);
      sleep_ms(interval_ms / workers);
    }
    uint64_t round_sum = MIX_SEED;
    for (int i = 0; i < workers; i++) {
      void *value;
      check_rc(pthread_join(threads[i], &value), "pthread_join");
      if ((uint64_t)(uintptr_t)value != work(r, i, 1)) fail("worker %d of round %d returned a wrong value", i, r);
      round_sum = mix(round_sum, (uint64_t)(uintptr_t)value);
    }
    joined_sum = mix(joined_sum, round_sum);
    check_rc(pthread_mutex_lock(&helpers_lock), "lock");
    while (helpers_running > 0) check_rc(pthread_cond_wait(&helpers_gone, &helpers_lock), "cond_wait");
    uint64_t helpers_now = helpers_sum;
    check_rc(pthread_mutex_unlock(&helpers_lock), "unlock");
    printf("round %d joined=%016llx helpers=%016llx\n", r, (unsigned long long)round_sum, (unsigned long long)helpers_now);
    fflush(stdout);
  }
  long made = atomic_load(&created), ended = atomic_load(&exited);
  if (made != 2L * rounds * workers || ended != made) fail("created %ld threads, %ld ended, expected %ld", made, ended, 2L * rounds * workers);
  printf("thr_churn done threads=%ld joined=%016llx helpers=%016llx\n", made, (unsigned long long)joined_sum,
         (unsigned long long)helpers_sum);
  return 0;
}
