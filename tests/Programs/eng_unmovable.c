// Holds one thing the engine cannot move, prints "ready", then waits for stdin to close.
// usage: eng_unmovable thread|tcp|shared|pipe|deleted|eventfd|timer
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void *idle(void *arg) { (void)arg; for (;;) pause(); return NULL; }

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "thread";
  if (!strcmp(what, "thread")) {
    pthread_t t;
    if (pthread_create(&t, NULL, idle, NULL)) return 2;
  } else if (!strcmp(what, "tcp")) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (s != 3 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) return 2;
  } else if (!strcmp(what, "shared")) {
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    p[0] = 1;
  } else if (!strcmp(what, "pipe")) {
    int p[2];
    if (pipe(p) || p[0] != 3 || write(p[1], "bytes", 5) != 5) return 2;
  } else if (!strcmp(what, "deleted")) {
    char path[] = "/tmp/eng_unmovable.XXXXXX";
    int fd = mkstemp(path);
    if (fd != 3 || unlink(path)) return 2;
  } else if (!strcmp(what, "eventfd")) {
    if (eventfd(0, 0) != 3) return 2;
  } else if (!strcmp(what, "timer")) {
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, NULL, &t)) return 2;
  } else {
    return 2;
  }
  printf("ready\n");
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {}
  return 0;
}
