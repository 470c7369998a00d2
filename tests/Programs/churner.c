// Keeps changing its memory while it runs, the worst case for a pre-copy: every tick it rewrites pages of a big
// mapping, discards a range with MADV_DONTNEED (zeros from then on), grows its heap with sbrk, and replaces a
// second mapping with one of another size at the same place. At the end it prints a checksum of all of it.
// Deterministic: the same arguments give the same output however its run is cut up, frozen or moved.
// usage: churner [MB=32] [TICKS=60] [MS=20] [HOLD...]
// HOLD: after its first HOLD ticks it waits for SIGUSR1 (blocked, taken by sigwait) before going on, so that a
// test can copy it while it surely runs, however slow the machine; several HOLDs, several such stops.
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t mix(uint64_t x) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x; }

static uint64_t sum_words(const uint64_t *p, size_t words, uint64_t sum) {
  for (size_t i = 0; i < words; i++) sum = sum * 1099511628211ULL + p[i];
  return sum;
}

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 32;
  long ticks = argc > 2 ? atol(argv[2]) : 60;
  long ms = argc > 3 ? atol(argv[3]) : 20;
  long holds[16];
  int nholds = 0;
  for (int i = 4; i < argc && nholds < 16; i++) holds[nholds++] = atol(argv[i]);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (nholds > 0 && sigprocmask(SIG_BLOCK, &usr1, NULL) != 0) { perror("sigprocmask"); return 1; }
  size_t page = 4096, pages = (mb << 20) / page, words_per_page = page / 8;
  uint64_t *big = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (big == MAP_FAILED) { perror("mmap"); return 1; }
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < pages * words_per_page; i++) big[i] = x = mix(x);
  // The replaced mapping lives at the start of a PROT_NONE reservation of its own, so nothing else lands there.
  size_t side_max = 64 * page;
  char *side = mmap(NULL, side_max, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (side == MAP_FAILED) { perror("mmap"); return 1; }
  size_t side_len = 16 * page;
  if (mmap(side, side_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) { perror("mmap"); return 1; }
  memset(side, 0x5a, side_len);
  uint64_t *heap[256];
  int heaps = 0;
  printf("ready %zu MB\n", mb);
  fflush(stdout);
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  for (long t = 0; t < ticks; t++) {
    for (int k = 0; k < 64; k++) {
      size_t p = (size_t)(mix((uint64_t)t * 64 + k + 1) % pages);
      for (size_t w = 0; w < words_per_page; w += 8) big[p * words_per_page + w] += (uint64_t)t + w;
    }
    if (t % 3 == 1) {
      size_t p = (size_t)(mix((uint64_t)t + 77) % (pages - 8));
      madvise(big + p * words_per_page, 8 * page, MADV_DONTNEED);
    }
    if (heaps < 256) {
      uint64_t *h = sbrk(3 * page);
      if (h == (void *)-1) { perror("sbrk"); return 1; }
      for (size_t w = 0; w < 3 * words_per_page; w++) h[w] = mix((uint64_t)t * 3 + w + 1);
      heap[heaps++] = h;
    }
    if (t % 4 == 2) {
      if (mmap(side, side_max, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) { perror("mmap"); return 1; }
      side_len = (size_t)(1 + t % 7) * 8 * page;
      if (mmap(side, side_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) { perror("mmap"); return 1; }
      memset(side, (int)(t & 0xff), side_len);
    }
    printf("tick %ld\n", t);
    fflush(stdout);
    for (int i = 0; i < nholds; i++) {
      if (t + 1 != holds[i]) continue;
      int sig;
      if (sigwait(&usr1, &sig) != 0) { perror("sigwait"); return 1; }
    }
    nanosleep(&pause, NULL);
  }
  uint64_t sum = sum_words(big, pages * words_per_page, 0);
  sum = sum_words((uint64_t *)side, side_len / 8, sum);
  for (int i = 0; i < heaps; i++) sum = sum_words(heap[i], 3 * words_per_page, sum);
  printf("churner done sum=%016llx\n", (unsigned long long)sum);
  return 0;
}
