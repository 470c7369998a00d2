// Reads stdin slowly, CHUNK bytes at a time with a pause of MS milliseconds after each read, so that what it is sent
// waits in its pipe: a move in the middle of the stream finds input relayed to the copy and not read yet. Prints
// "ready", a line at every 64 KiB read, and at end of input the byte count and an FNV-1a hash of everything read.
// usage: producer | slowreader [CHUNK=256] [MS=2]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t chunk = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
  long ms = argc > 2 ? atol(argv[2]) : 2;
  if (chunk == 0 || chunk > 65536) { fprintf(stderr, "chunk must be 1-65536\n"); return 2; }
  static unsigned char buffer[65536];
  uint64_t hash = 0xcbf29ce484222325ULL, bytes = 0, reported = 0;
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    ssize_t n = read(0, buffer, chunk);
    if (n < 0) { perror("read"); return 1; }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; i++) hash = (hash ^ buffer[i]) * 0x100000001b3ULL;
    bytes += (uint64_t)n;
    if (bytes - reported >= 65536) {
      reported = bytes;
      printf("read %llu\n", (unsigned long long)bytes);
      fflush(stdout);
    }
    nanosleep(&pause, NULL);
  }
  printf("slowreader done bytes=%llu hash=%016llx\n", (unsigned long long)bytes, (unsigned long long)hash);
  return 0;
}
