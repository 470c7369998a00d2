// Worst case for a pre-copy (bench/migration): touches MIB mebibytes, prints "ready", then rewrites one word of
// every page over and over, so that every round of a pre-copy finds all of its memory written again.
// usage: dirtier MIB
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64, pages = (mib << 20) / 4096;
  uint64_t *area = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) { perror("mmap"); return 1; }
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < (mib << 20) / 8; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; area[i] = x; }
  printf("ready %zu MiB\n", mib);
  fflush(stdout);
  for (uint64_t pass = 0;; pass++)
    for (size_t p = 0; p < pages; p++) area[p * 512] += pass;
}
