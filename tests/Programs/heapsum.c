// A heap of many small blocks: builds MB megabytes out of 64 B..4 KB mallocs (fixed-seed sizes), then for ROUNDS
// rounds frees a third of the blocks, trims, reallocates them with new contents and checksums the whole heap.
// Exercises the restored [heap]/brk: glibc grows, reuses and trims it on both sides of a checkpoint.
// usage: heapsum [MB=64] [ROUNDS=40]
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void fill(unsigned char *block, size_t size, uint64_t seed) {
  for (size_t i = 0; i < size; i++)
    block[i] = (unsigned char)((seed >> ((i & 7) * 8)) + i);
}

int main(int argc, char **argv) {
  size_t target = (size_t)(argc > 1 ? atol(argv[1]) : 64) << 20;
  int rounds = argc > 2 ? atoi(argv[2]) : 40;
  size_t capacity = target / 64 + 1, count = 0, total = 0;
  unsigned char **blocks = calloc(capacity, sizeof *blocks);
  size_t *sizes = calloc(capacity, sizeof *sizes);
  if (!blocks || !sizes) { perror("calloc"); return 1; }

  while (total < target && count < capacity) {
    size_t size = 64 + next_random() % (4096 - 64 + 1);
    blocks[count] = malloc(size);
    if (!blocks[count]) { perror("malloc"); return 1; }
    sizes[count] = size;
    fill(blocks[count], size, count);
    total += size;
    count++;
  }
  printf("built %zu blocks, %zu bytes\n", count, total);
  fflush(stdout);

  struct timespec pause = { 0, 15 * 1000 * 1000 };
  for (int round = 0; round < rounds; round++) {
    for (size_t i = (size_t)round % 3; i < count; i += 3) {
      free(blocks[i]);
      blocks[i] = NULL;
    }
    malloc_trim(0);
    for (size_t i = (size_t)round % 3; i < count; i += 3) {
      size_t size = 64 + next_random() % (4096 - 64 + 1);
      blocks[i] = malloc(size);
      if (!blocks[i]) { perror("malloc"); return 1; }
      sizes[i] = size;
      fill(blocks[i], size, next_random());
    }
    uint64_t sum = 1469598103934665603ULL;
    size_t bytes = 0;
    for (size_t i = 0; i < count; i++) {
      for (size_t j = 0; j < sizes[i]; j += 8) sum = (sum ^ blocks[i][j]) * 1099511628211ULL;
      bytes += sizes[i];
    }
    printf("round %d bytes=%zu sum=%016llx\n", round, bytes, (unsigned long long)sum);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  for (size_t i = 0; i < count; i++) free(blocks[i]);
  free(blocks);
  free(sizes);
  malloc_trim(0);
  printf("heapsum done rounds=%d last=%016llx\n", rounds, (unsigned long long)next_random());
  return 0;
}
