// Keeps a writable MAP_SHARED mapping (anonymous, or of FILE when given; "-" is anonymous) and updates it while
// printing ticks. With "share", a forked child maps the same memory until this process ends: then it cannot move
// (the child would stop seeing its writes); alone, anonymous shared memory travels with the process.
// usage: sharedmap [TICKS=40] [MS=50] [FILE|-] [share]
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SIZE (1 << 20)

int main(int argc, char **argv) {
  int ticks = argc > 1 ? atoi(argv[1]) : 40;
  long ms = argc > 2 ? atol(argv[2]) : 50;
  unsigned char *shared;
  if (argc > 3 && strcmp(argv[3], "-") != 0) {
    int fd = open(argv[3], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, SIZE) != 0) { perror(argv[3]); return 1; }
    shared = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
  } else {
    shared = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  }
  if (shared == MAP_FAILED) { perror("mmap"); return 1; }
  if (argc > 4 && !strcmp(argv[4], "share")) {
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
      // Holds the mapping, silent, until its parent is gone.
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(0);
      for (;;) pause();
    }
  }
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  uint64_t sum = 0;
  for (int i = 0; i < ticks; i++) {
    for (size_t j = 0; j < SIZE; j += 4096) shared[j] = (unsigned char)(shared[j] + i + 1);
    sum = 0;
    for (size_t j = 0; j < SIZE; j += 4096) sum = sum * 31 + shared[j];
    printf("tick %d sum=%016llx\n", i, (unsigned long long)sum);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  printf("sharedmap done ticks=%d sum=%016llx\n", ticks, (unsigned long long)sum);
  return 0;
}
