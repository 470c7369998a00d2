// Maps MB megabytes, reads every page of them (the kernel maps its shared zero page there) and writes only the
// first WRITE megabytes, says "ready", waits for a line on stdin, and prints a checksum of the whole mapping.
// An image of it must carry the written megabytes, not the ones that were only read.
// usage: readmostly [MB=64] [WRITE=4]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 64, written = argc > 2 ? strtoul(argv[2], NULL, 10) : 4;
  size_t words = (mb << 20) / 8;
  volatile uint64_t *area = mmap(NULL, mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) { perror("mmap"); return 1; }
  uint64_t sum = 0;
  for (size_t i = 0; i < words; i += 512) sum += area[i];
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < (written << 20) / 8; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; area[i] = x; }
  printf("ready %llu\n", (unsigned long long)sum);
  fflush(stdout);
  char line[64];
  if (!fgets(line, sizeof line, stdin)) return 2;
  for (size_t i = 0; i < words; i++) sum = sum * 1099511628211ULL + area[i];
  printf("sum %016llx\n", (unsigned long long)sum);
  return 0;
}
