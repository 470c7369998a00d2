// Post-copy's worst case and its lab test target: touches MB megabytes, prints "ready", then in each of PASSES passes
// rewrites one word of every page (all of its memory is written again, pass after pass, faster than any link copies
// it), sleeping MS milliseconds between passes; every 8th pass and at the end it prints a checksum of all of it, and
// it exits with status EXIT. With HOT, each pass rewrites only the first HOT megabytes (a process quiet but for a
// hot region); with FORKFILE, after the first pass at which that file exists it forks once, a child that prints a
// checksum of all the memory past the hot region (untouched since "ready", so the same whenever it forks) and exits,
// and waits for it (a fork while a post-copy still brings the pages: the child must find every one). Deterministic:
// the same arguments print the same lines however the run is frozen, moved or cut up (the child's line may come
// after another pass).
// usage: rewriter [MB=64] [PASSES=100] [MS=0] [EXIT=0] [HOT=MB] [FORKFILE]
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

static uint64_t mix(uint64_t x) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x; }

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
  long passes = argc > 2 ? atol(argv[2]) : 100;
  long ms = argc > 3 ? atol(argv[3]) : 0;
  int code = argc > 4 ? atoi(argv[4]) : 0;
  size_t hot = argc > 5 ? strtoul(argv[5], NULL, 10) : mb;
  const char *forkfile = argc > 6 ? argv[6] : NULL;
  int forked = 0;
  if (hot == 0 || hot > mb) hot = mb;
  size_t words = (mb << 20) / 8, pages = (hot << 20) / 4096;
  uint64_t *area = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) { perror("mmap"); return 1; }
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < words; i++) area[i] = x = mix(x);
  printf("ready %zu MB\n", mb);
  fflush(stdout);
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  for (long pass = 1; pass <= passes; pass++) {
    for (size_t p = 0; p < pages; p++) area[p * 512 + (size_t)pass % 512] += mix((uint64_t)pass * pages + p + 1);
    if (pass % 8 == 0 || pass == passes) {
      uint64_t sum = 0;
      for (size_t i = 0; i < words; i++) sum = sum * 1099511628211ULL + area[i];
      printf("pass %ld %016llx\n", pass, (unsigned long long)sum);
      fflush(stdout);
    }
    if (forkfile && !forked && access(forkfile, F_OK) == 0) {
      forked = 1;
      fflush(stdout);
      pid_t child = fork();
      if (child < 0) { perror("fork"); return 1; }
      if (child == 0) {
        uint64_t sum = 0;
        for (size_t i = (hot << 20) / 8; i < words; i++) sum = sum * 1099511628211ULL + area[i];
        printf("child %016llx\n", (unsigned long long)sum);
        fflush(stdout);
        _exit(0);
      }
      int status;
      if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) { printf("child failed\n"); fflush(stdout); }
    }
    if (ms > 0) nanosleep(&pause, NULL);
  }
  return code;
}
