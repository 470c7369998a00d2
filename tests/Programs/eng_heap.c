// Heap churn for engine tests: grows the brk heap, frees (glibc trims), reallocates, and prints a checksum of
// everything after each round. usage: eng_heap ROUNDS   (one round every 20 ms)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 50;
  unsigned long state = 88172645463325252UL;
  struct timespec pause = {0, 20 * 1000 * 1000};
  enum { SLOTS = 64 };
  unsigned char *slot[SLOTS] = {0};
  size_t size[SLOTS] = {0};
  for (int r = 0; r < rounds; r++) {
    for (int k = 0; k < 16; k++) {
      state ^= state << 13; state ^= state >> 7; state ^= state << 17;
      int i = state % SLOTS;
      free(slot[i]);
      size[i] = 1 + state % (256 * 1024);
      slot[i] = malloc(size[i]);
      memset(slot[i], (int)(state & 0xff), size[i]);
      for (size_t j = 0; j < size[i]; j += 61) slot[i][j] = (unsigned char)(state >> (j % 56));
      memset(slot[i] + size[i] / 2, (int)(r & 0xff), size[i] - size[i] / 2);
    }
    unsigned long sum = 1469598103934665603UL;
    for (int i = 0; i < SLOTS; i++)
      for (size_t j = 0; j < size[i]; j += 7) sum = (sum ^ slot[i][j]) * 1099511628211UL;
    if (r % 10 == 9) for (int i = 0; i < SLOTS; i += 2) { free(slot[i]); slot[i] = NULL; size[i] = 0; }
    printf("%d %016lx\n", r, sum);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  return 0;
}
