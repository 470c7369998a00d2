// Threads that do nothing but make threads: SPAWNERS threads each create and join a short-lived thread ROUNDS times,
// so that at any instant some thread is being born and another is ending. A freeze of this process nearly always
// meets a thread created by one not yet stopped, and a thread on its way out. Each newborn adds its number to its
// spawner's sum; the output (one line per spawner, then the total) depends only on the arguments.
// usage: thr_spawner [SPAWNERS=4] [ROUNDS=20000]
#include "thr_common.h"

#include <pthread.h>

typedef struct {
  int index;
  int rounds;
  uint64_t sum;
} spawner_t;

typedef struct {
  int round;
  uint64_t value;
} newborn_t;

static void *newborn(void *argument) {
  newborn_t *job = argument;
  job->value = mix(MIX_SEED, (uint64_t)job->round);
  return NULL;
}

static void *spawner(void *argument) {
  spawner_t *self = argument;
  self->sum = MIX_SEED;
  for (int round = 0; round < self->rounds; round++) {
    newborn_t job = { self->index * 1000000 + round, 0 };
    pthread_t thread;
    check_rc(pthread_create(&thread, NULL, newborn, &job), "pthread_create");
    check_rc(pthread_join(thread, NULL), "pthread_join");
    self->sum = mix(self->sum, job.value);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int spawners = argc > 1 ? atoi(argv[1]) : 4;
  int rounds = argc > 2 ? atoi(argv[2]) : 20000;
  if (spawners < 1 || spawners > 64 || rounds < 1) fail("usage: %s [SPAWNERS=1..64] [ROUNDS>=1]", argv[0]);
  printf("spawning %d x %d\n", spawners, rounds);
  fflush(stdout);
  spawner_t states[64];
  pthread_t threads[64];
  for (int i = 0; i < spawners; i++) {
    states[i] = (spawner_t){ i, rounds, 0 };
    check_rc(pthread_create(&threads[i], NULL, spawner, &states[i]), "pthread_create");
  }
  uint64_t total = MIX_SEED;
  for (int i = 0; i < spawners; i++) {
    check_rc(pthread_join(threads[i], NULL), "pthread_join");
    printf("spawner %d sum %016llx\n", i, (unsigned long long)states[i].sum);
    total = mix(total, states[i].sum);
  }
  printf("total %016llx\n", (unsigned long long)total);
  return 0;
}
