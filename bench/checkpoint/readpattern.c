// bench/checkpoint/readpattern.c: is the dump's gathering slower than the raw read because of how it reads? Reads
// [ADDR, ADDR+MiB) of a running process (e.g. touchmem) with process_vm_readv in the raw read's pattern (16 MiB calls
// into one buffer) and the dumper's (4 MiB calls into eight rotating slots, PAGEMAP_SCAN per chunk) and variants,
// interleaved for REPS passes (order reversed every other pass); prints each pattern's median and range.
// usage: gcc -O2 -o readpattern readpattern.c && chrt -f 1 ./readpattern PID HEXADDR MIB REPS   (REPS <= 32; root)
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/types.h>
#include <linux/ioctl.h>
// The kernel's PAGEMAP_SCAN ABI (linux/fs.h, 6.7+), spelled out: this machine's headers predate it.
struct page_region { __u64 start, end, categories; };
struct pm_scan_arg { __u64 size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask, category_anyof_mask, return_mask; };
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int pm;
static double pass(int pid, unsigned long addr, size_t bytes, size_t chunk, int slots, int scan, char **buf) {
  double t0 = now();
  struct page_region regs[512];
  for (size_t off = 0, i = 0; off < bytes; off += chunk, i++) {
    size_t n = bytes - off < chunk ? bytes - off : chunk;
    if (scan) {
      struct pm_scan_arg a = {.size = sizeof a, .start = addr + off, .end = addr + off + n, .vec = (unsigned long)regs, .vec_len = 512,
        .category_inverted = PAGE_IS_PFNZERO, .category_mask = PAGE_IS_PFNZERO, .category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
        .return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_HUGE};
      if (ioctl(pm, PAGEMAP_SCAN, &a) < 0) { perror("scan"); exit(1); }
    }
    struct iovec l = {buf[i % slots], n}, r = {(void *)(addr + off), n};
    if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)n) { perror("readv"); exit(1); }
  }
  return now() - t0;
}
int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: readpattern PID HEXADDR MIB REPS\n"); return 2; }
  int pid = atoi(argv[1]); unsigned long addr = strtoul(argv[2], 0, 16); size_t bytes = strtoul(argv[3], 0, 10) << 20;
  char path[64]; snprintf(path, sizeof path, "/proc/%d/pagemap", pid); pm = open(path, O_RDONLY);
  struct { size_t chunk; int slots, scan; const char *name; } cfg[] = {
    {16 << 20, 1, 0, "16MiB x1 (floor)"}, {4 << 20, 8, 1, "4MiB x8 +scan (engine)"}, {4 << 20, 8, 0, "4MiB x8"},
    {4 << 20, 4, 0, "4MiB x4"}, {4 << 20, 1, 0, "4MiB x1"}, {16 << 20, 1, 1, "16MiB x1 +scan"}};
  int ncfg = sizeof cfg / sizeof cfg[0];
  char *bufs[8];
  for (int i = 0; i < 8; i++) { bufs[i] = aligned_alloc(4096, 16 << 20); memset(bufs[i], 1, 16 << 20); }
  double t[16][32]; int reps = atoi(argv[4]);
  if (reps < 1 || reps > 32) { fprintf(stderr, "readpattern: REPS must be 1-32\n"); return 2; }
  for (int r = 0; r < reps; r++) for (int k = 0; k < ncfg; k++) { int c = (r % 2) ? ncfg - 1 - k : k; t[c][r] = pass(pid, addr, bytes, cfg[c].chunk, cfg[c].slots, cfg[c].scan, bufs); }
  for (int c = 0; c < ncfg; c++) {
    double v[32]; memcpy(v, t[c], sizeof(double) * reps);
    for (int i = 0; i < reps; i++) for (int j = i + 1; j < reps; j++) if (v[j] < v[i]) { double x = v[i]; v[i] = v[j]; v[j] = x; }
    printf("%-24s median %.1f ms (%.1f-%.1f)\n", cfg[c].name, v[reps / 2], v[0], v[reps - 1]);
  }
}
