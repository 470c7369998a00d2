// Benchmark target: touches exactly N MiB of private memory with incompressible, non-zero bytes, starts THREADS-1
// more threads (idle in pause(), or busy spinning on their own stack), says "ready" on stdout, then waits in
// pause() until killed. The touched bytes are what an image must carry; the threads are what a freeze must stop.
// usage: touchmem [MiB=64] [THREADS=1] [idle|busy]
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void *idle(void *arg) { (void)arg; for (;;) pause(); return NULL; }

static void *busy(void *arg) {
  volatile uint64_t x = (uintptr_t)arg;
  for (;;) x = x * 6364136223846793005ULL + 1;
  return NULL;
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
  int threads = argc > 2 ? atoi(argv[2]) : 1;
  int spin = argc > 3 && !strcmp(argv[3], "busy");
  size_t len = mib << 20;
  uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  uint64_t x = 0x9E3779B97F4A7C15ULL;  // xorshift64: cheap, incompressible, never all-zero pages
  for (size_t i = 0; i < len / 8; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; p[i] = x; }
  for (int i = 1; i < threads; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, spin ? busy : idle, (void *)(uintptr_t)i)) { perror("pthread_create"); return 1; }
  }
  printf("ready %zu %p\n", mib, (void *)p);
  fflush(stdout);
  for (;;) pause();
}
