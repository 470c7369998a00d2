// Benchmark target: touches exactly N MiB of private memory with incompressible, non-zero bytes, says "ready"
// on stdout, then waits in pause() until killed. The touched bytes are what an image must carry.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
  size_t len = mib << 20;
  uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  uint64_t x = 0x9E3779B97F4A7C15ULL;  // xorshift64: cheap, incompressible, never all-zero pages
  for (size_t i = 0; i < len / 8; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; p[i] = x; }
  printf("ready %zu %p\n", mib, (void *)p);
  fflush(stdout);
  for (;;) pause();
}
