// Maps MB megabytes, reads every page of them and writes only the first WRITE megabytes, says "ready", waits for a
// line on stdin, and prints a checksum of the whole mapping. An image of it must carry the written megabytes, not
// the ones that were only read. Where the read pages land depends on the machine: the kernel's shared zero page, or
// (transparent huge pages with use_zero_page off) real zero-filled huge pages.
// With MODE "hugezero" the mapping is 2 MiB aligned, asks for huge pages (MADV_HUGEPAGE) and the rest is written
// with zeros instead of read: real all-zero pages wherever the machine has huge pages at all.
// usage: readmostly [MB=64] [WRITE=4] [MODE=read|hugezero]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 64, written = argc > 2 ? strtoul(argv[2], NULL, 10) : 4;
  int hugezero = argc > 3 && strcmp(argv[3], "hugezero") == 0;
  size_t words = (mb << 20) / 8, huge = 2 << 20;
  char *raw = mmap(NULL, (mb << 20) + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) { perror("mmap"); return 1; }
  volatile uint64_t *area = (volatile uint64_t *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
  if (hugezero) madvise((void *)area, mb << 20, MADV_HUGEPAGE);
  uint64_t sum = 0;
  for (size_t i = 0; i < words; i += 512) {
    if (hugezero) area[i] = 0;
    else sum += area[i];
  }
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < (written << 20) / 8; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; area[i] = x; }
  printf("ready %llu %p\n", (unsigned long long)sum, (void *)area);
  fflush(stdout);
  char line[64];
  if (!fgets(line, sizeof line, stdin)) return 2;
  for (size_t i = 0; i < words; i++) sum = sum * 1099511628211ULL + area[i];
  printf("sum %016llx\n", (unsigned long long)sum);
  return 0;
}
