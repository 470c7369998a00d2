// Keeps counters in a file it maps MAP_SHARED read-write, as a JVM keeps its hsperfdata: PATH is created (0600, its
// parent directory 0755 if missing) with a size that is not a whole number of pages, mapped with more pages than the
// file has, and each round a few counters spread over it (some pages stay holes) are updated and printed, with a
// checksum of the file read back through read(2), which must match the mapping. Deterministic output.
// usage: sharedfile PATH [ROUNDS=40] [MS=50] [watch|HOLD]
// watch: maps an existing PATH read-only and prints nothing but "watching"; a second user of the same file.
// HOLD (a number): after round HOLD it waits for SIGUSR1 before going on, so a test can checkpoint it at a known
// round however slow the machine.
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_SIZE 40000       // 9 pages and a part of a tenth
#define MAP_SIZE (16 * 4096)  // pages 10-15 lie beyond the file's end
static const size_t counters[] = {0, 8, 3 * 4096 + 16, 9 * 4096 + 1000, FILE_SIZE - 8};
#define COUNTERS (sizeof counters / sizeof counters[0])

static uint64_t checksum(const unsigned char *p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: sharedfile PATH [ROUNDS] [MS] [watch]\n"); return 2; }
  const char *path = argv[1];
  int rounds = argc > 2 ? atoi(argv[2]) : 40;
  long ms = argc > 3 ? atol(argv[3]) : 50;
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  if (argc > 4 && !strcmp(argv[4], "watch")) {
    int fd = open(path, O_RDONLY);
    if (fd < 0 || mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED) { perror(path); return 1; }
    close(fd);
    printf("watching\n");
    fflush(stdout);
    for (int i = 0; i < rounds; i++) nanosleep(&pause, NULL);
    return 0;
  }

  int hold = argc > 4 ? atoi(argv[4]) : -1;
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (hold > 0 && sigprocmask(SIG_BLOCK, &usr1, NULL) != 0) { perror("sigprocmask"); return 1; }

  char parent[4096];
  snprintf(parent, sizeof parent, "%s", path);
  if (mkdir(dirname(parent), 0755) != 0 && errno != EEXIST) { perror("mkdir"); return 1; }
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, FILE_SIZE) != 0) { perror(path); return 1; }
  unsigned char *map = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) { perror("mmap"); return 1; }
  memcpy(map + 16, "sharedfile counters", 19);

  static unsigned char back[FILE_SIZE];
  for (int r = 1; r <= rounds; r++) {
    for (size_t c = 0; c < COUNTERS; c++) {
      uint64_t v;
      memcpy(&v, map + counters[c], 8);
      v = v * 3 + (uint64_t)(r + c);
      memcpy(map + counters[c], &v, 8);
    }
    if (pread(fd, back, FILE_SIZE, 0) != FILE_SIZE) { perror("pread"); return 1; }
    uint64_t seen = checksum(map, FILE_SIZE), read = checksum(back, FILE_SIZE);
    printf("round %d sum=%016llx %s\n", r, (unsigned long long)seen, seen == read ? "file agrees" : "FILE DIFFERS");
    fflush(stdout);
    if (r == hold) {
      int sig;
      if (sigwait(&usr1, &sig) != 0) { perror("sigwait"); return 1; }
    }
    nanosleep(&pause, NULL);
  }
  printf("sharedfile done\n");
  return 0;
}
