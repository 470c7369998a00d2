// Fills MEGABYTES of heap with pseudo-random bytes, prints "ready CHECKSUM", blocks reading a line from stdin,
// then checks the memory again and prints "after CHECKSUM" plus the line read.  usage: eng_bigmem MEGABYTES
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long checksum(const unsigned char *p, size_t n) {
  unsigned long sum = 1469598103934665603UL;
  for (size_t i = 0; i < n; i += 8) sum = (sum ^ *(const unsigned long *)(p + i)) * 1099511628211UL;
  return sum;
}

int main(int argc, char **argv) {
  size_t n = (size_t)(argc > 1 ? atol(argv[1]) : 64) << 20;
  unsigned char *p = malloc(n);
  if (!p) return 2;
  unsigned long state = 0x9E3779B97F4A7C15UL;
  for (size_t i = 0; i < n; i += 8) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    memcpy(p + i, &state, 8);
  }
  printf("ready %016lx\n", checksum(p, n));
  fflush(stdout);
  char line[256];
  if (!fgets(line, sizeof line, stdin)) strcpy(line, "(eof)\n");
  printf("after %016lx %s", checksum(p, n), line);
  return 0;
}
