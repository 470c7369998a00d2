// Benchmark target for bench/migration. After DELAY_MS (time to move it), it either writes MIB mebibytes to stdout
// in 64 KiB writes ("write"), or runs a fixed CPU-bound loop of ITER million rounds ("spin"); then it prints to
// stderr how long that phase took, measured by itself (CLOCK_MONOTONIC), so the relay's cost shows wherever it ran.
// usage: benchprog write MIB DELAY_MS | benchprog spin ITER DELAY_MS
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: benchprog write|spin N DELAY_MS\n"); return 2; }
  long n = atol(argv[2]), delay = atol(argv[3]);
  struct timespec pause = { delay / 1000, (delay % 1000) * 1000000L };
  fprintf(stderr, "ready\n");
  nanosleep(&pause, NULL);
  double start = now();
  if (strcmp(argv[1], "write") == 0) {
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    for (long i = 0; i < n * 16; i++) {
      size_t off = 0;
      while (off < sizeof chunk) {
        ssize_t w = write(1, chunk + off, sizeof chunk - off);
        if (w < 0) { perror("write"); return 1; }
        off += (size_t)w;
      }
    }
  } else {
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (long i = 0; i < n * 1000000L; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
    if (x == 42) puts("unlikely");
  }
  fprintf(stderr, "elapsed %.4f\n", now() - start);
  return 0;
}
