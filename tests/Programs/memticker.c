// Touches MB megabytes of private memory with a fixed-seed pattern, then prints a tick every MS milliseconds for
// TICKS ticks, and finally a checksum of the whole area: the memory must arrive intact wherever the process ran.
// A migration target with a sizeable image (an RSS of about MB megabytes).
// usage: memticker [MB=64] [TICKS=100] [MS=50]
//        memticker MB usr1 MS  ticks until SIGUSR1, then the checksum: the output of a run of that many ticks, so that
//                              a test ends it once it has done what it does to it, rather than giving it a running
//                              time that must outlast the test on a slow machine and is waited out on a quick one
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_usr1(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
  int until_signal = argc > 2 && strcmp(argv[2], "usr1") == 0;
  long ticks = until_signal ? -1 : argc > 2 ? atol(argv[2]) : 100;
  long ms = argc > 3 ? atol(argv[3]) : 50;
  if (until_signal) {
    struct sigaction action = { 0 };
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
  }
  size_t words = (mb << 20) / sizeof(uint64_t);
  uint64_t *area = mmap(NULL, words * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) { perror("mmap"); return 1; }
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < words; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    area[i] = x;
  }
  printf("ready %zu MB\n", mb);
  fflush(stdout);
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  for (long t = 0; until_signal ? !stop : t < ticks; t++) {
    printf("tick %ld\n", t);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < words; i++) sum = sum * 1099511628211ULL + area[i];
  printf("memticker done sum=%016llx\n", (unsigned long long)sum);
  return 0;
}
