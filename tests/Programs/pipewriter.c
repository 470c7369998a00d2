// Writes a large deterministic stream of numbered lines to stdout with write(); when its reader stops reading, the
// pipe fills and the program blocks in write(), which is where a checkpoint freezes it.
// usage: pipewriter [MB=32]
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_all(const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = write(STDOUT_FILENO, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data += n;
    size -= (size_t)n;
  }
  return 0;
}

int main(int argc, char **argv) {
  unsigned long long target = (unsigned long long)(argc > 1 ? atol(argv[1]) : 32) << 20;
  static char buffer[1 << 16];
  size_t used = 0;
  unsigned long long total = 0, line = 0, hash = 1469598103934665603ULL;
  while (total < target) {
    hash = (hash ^ line) * 1099511628211ULL;
    int n = snprintf(buffer + used, sizeof buffer - used, "line %llu %016llx\n", line, hash);
    line++;
    used += (size_t)n;
    total += (unsigned long long)n;
    if (sizeof buffer - used < 64) {
      if (write_all(buffer, used) != 0) { perror("write"); return 1; }
      used = 0;
    }
  }
  int n = snprintf(buffer + used, sizeof buffer - used, "pipewriter done lines=%llu bytes=%llu\n", line, total);
  used += (size_t)n;
  if (write_all(buffer, used) != 0) { perror("write"); return 1; }
  return 0;
}
