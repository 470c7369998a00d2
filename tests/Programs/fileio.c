// Reads INPUT sequentially in CHUNK-byte reads and writes each chunk, transformed, to OUTPUT at the same offset:
// even chunks with pwrite(), odd ones with lseek()+write(). After a restore both descriptors must be reopened by path
// at their saved offsets. At the end it re-reads OUTPUT with pread() and checks it against what it wrote.
// usage: fileio INPUT OUTPUT [CHUNK=65536] [PAUSE_MS=6]
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t fnv(uint64_t sum, const unsigned char *data, size_t size) {
  for (size_t i = 0; i < size; i++) sum = (sum ^ data[i]) * 1099511628211ULL;
  return sum;
}

static int write_all_at(int fd, const unsigned char *data, size_t size, off_t offset, int use_pwrite) {
  if (!use_pwrite && lseek(fd, offset, SEEK_SET) != offset) return -1;
  size_t done = 0;
  while (done < size) {
    ssize_t n = use_pwrite ? pwrite(fd, data + done, size - done, offset + (off_t)done) : write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: fileio INPUT OUTPUT [CHUNK] [PAUSE_MS]\n"); return 2; }
  size_t chunk = argc > 3 ? (size_t)atol(argv[3]) : 65536;
  long pause_ms = argc > 4 ? atol(argv[4]) : 6;
  int in = open(argv[1], O_RDONLY);
  if (in < 0) { perror(argv[1]); return 1; }
  int out = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (out < 0) { perror(argv[2]); return 1; }
  unsigned char *buffer = malloc(chunk);
  if (!buffer) { perror("malloc"); return 1; }

  struct timespec pause = { pause_ms / 1000, (pause_ms % 1000) * 1000000L };
  uint64_t written_sum = 1469598103934665603ULL;
  off_t offset = 0;
  long index = 0;
  for (;;) {
    ssize_t n = read(in, buffer, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { perror("read"); return 1; }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; i++) buffer[i] = (unsigned char)(((buffer[i] << 3) | (buffer[i] >> 5)) ^ (offset + i));
    if (write_all_at(out, buffer, (size_t)n, offset, index % 2 == 0) != 0) { perror("write"); return 1; }
    written_sum = fnv(written_sum, buffer, (size_t)n);
    offset += n;
    if (index % 8 == 0) {
      printf("chunk %ld offset=%lld sum=%016llx\n", index, (long long)offset, (unsigned long long)written_sum);
      fflush(stdout);
    }
    index++;
    nanosleep(&pause, NULL);
  }

  uint64_t reread_sum = 1469598103934665603ULL;
  for (off_t at = 0; at < offset;) {
    ssize_t n = pread(out, buffer, chunk, at);
    if (n <= 0) { perror("pread"); return 1; }
    reread_sum = fnv(reread_sum, buffer, (size_t)n);
    at += n;
  }
  printf("fileio done chunks=%ld bytes=%lld sum=%016llx verify=%s\n", index, (long long)offset,
         (unsigned long long)written_sum, reread_sum == written_sum ? "ok" : "MISMATCH");
  free(buffer);
  close(in);
  return close(out) == 0 && reread_sum == written_sum ? 0 : 1;
}
