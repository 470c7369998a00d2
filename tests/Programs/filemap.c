// Maps FILE twice, MAP_PRIVATE read-only and MAP_PRIVATE read-write, and for ROUNDS rounds rewrites part of its
// private copy and checksums both mappings. The read-only view must still equal the file after a restore, the
// private copy must keep its modifications, and the file on disk must never change.
// usage: filemap FILE [ROUNDS=80] [PAUSE_MS=20]
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t fnv(const unsigned char *data, size_t size) {
  uint64_t sum = 1469598103934665603ULL;
  for (size_t i = 0; i < size; i++) sum = (sum ^ data[i]) * 1099511628211ULL;
  return sum;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: filemap FILE [ROUNDS] [PAUSE_MS]\n"); return 2; }
  int rounds = argc > 2 ? atoi(argv[2]) : 80;
  long pause_ms = argc > 3 ? atol(argv[3]) : 20;
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { perror(argv[1]); return 1; }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size == 0) { fprintf(stderr, "filemap: empty or unreadable file\n"); return 1; }
  size_t size = (size_t)st.st_size;
  const unsigned char *view = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  unsigned char *copy = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (view == MAP_FAILED || copy == MAP_FAILED) { perror("mmap"); return 1; }
  close(fd);

  uint64_t original = fnv(view, size);
  printf("mapped %zu bytes view=%016llx\n", size, (unsigned long long)original);
  fflush(stdout);
  struct timespec pause = { pause_ms / 1000, (pause_ms % 1000) * 1000000L };
  size_t stride = size / (size_t)rounds + 1;
  for (int round = 0; round < rounds; round++) {
    size_t start = (size_t)round * stride;
    for (size_t i = start; i < start + stride && i < size; i++) copy[i] = (unsigned char)(copy[i] ^ (round * 7 + 1));
    uint64_t view_sum = fnv(view, size), copy_sum = fnv(copy, size);
    printf("round %d view=%016llx copy=%016llx view_unchanged=%s\n", round, (unsigned long long)view_sum,
           (unsigned long long)copy_sum, view_sum == original ? "yes" : "no");
    fflush(stdout);
    nanosleep(&pause, NULL);
  }

  // The file itself must be untouched by the private writes.
  unsigned char *disk = malloc(size);
  fd = open(argv[1], O_RDONLY);
  size_t have = 0;
  while (disk && fd >= 0 && have < size) {
    ssize_t n = read(fd, disk + have, size - have);
    if (n <= 0) break;
    have += (size_t)n;
  }
  int disk_same = disk && have == size && memcmp(disk, view, size) == 0;
  printf("filemap done rounds=%d copy=%016llx file_unchanged=%s\n", rounds, (unsigned long long)fnv(copy, size),
         disk_same ? "yes" : "no");
  free(disk);
  return disk_same ? 0 : 1;
}
