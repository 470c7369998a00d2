// Two worker threads compute fixed checksums while the main thread prints ticks; all three are alive for the whole
// run. A cantmove target: a multi-threaded process must be refused untouched and still finish normally.
// usage: threaded [TICKS=40] [MS=50]
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  int id;
  int rounds;
  long ms;
  uint64_t sum;
} worker_t;

static void *work(void *argument) {
  worker_t *worker = argument;
  struct timespec pause = { worker->ms / 1000, (worker->ms % 1000) * 1000000L };
  uint64_t sum = 1469598103934665603ULL + (uint64_t)worker->id;
  for (int round = 0; round < worker->rounds; round++) {
    for (int i = 0; i < 20000; i++) sum = (sum ^ (uint64_t)(round * 20000 + i)) * 1099511628211ULL;
    nanosleep(&pause, NULL);
  }
  worker->sum = sum;
  return NULL;
}

int main(int argc, char **argv) {
  int ticks = argc > 1 ? atoi(argv[1]) : 40;
  long ms = argc > 2 ? atol(argv[2]) : 50;
  worker_t workers[2] = { { 1, ticks, ms, 0 }, { 2, ticks, ms, 0 } };
  pthread_t threads[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&threads[i], NULL, work, &workers[i]) != 0) { fprintf(stderr, "pthread_create failed\n"); return 1; }
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  for (int i = 0; i < ticks; i++) {
    printf("tick %d\n", i);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
  printf("threaded done worker1=%016llx worker2=%016llx\n", (unsigned long long)workers[0].sum,
         (unsigned long long)workers[1].sum);
  return 0;
}
