// Holds one thing the engine cannot move, prints "ready", then waits for stdin to close.
// usage: eng_unmovable mainexit|tcp|shared|pipe|deleted|eventfd|timer
// mainexit: the main thread ends (pthread_exit) and a second thread waits for stdin instead.
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

static void wait_for_stdin_to_close(void) {
  char c;
  while (read(0, &c, 1) > 0) {}
}

static void *waiter(void *arg) { (void)arg; wait_for_stdin_to_close(); exit(0); }

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "mainexit";
  if (!strcmp(what, "mainexit")) {
    pthread_t t;
    if (pthread_create(&t, NULL, waiter, NULL)) return 2;
    printf("ready\n");
    fflush(stdout);
    pthread_exit(NULL);
  } else if (!strcmp(what, "tcp")) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (s != 3 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) return 2;
  } else if (!strcmp(what, "shared")) {
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    p[0] = 1;
  } else if (!strcmp(what, "pipe")) {
    int p[2];  // only the read end stays: its other end is not this process's to take along
    if (pipe(p) || p[0] != 3 || close(p[1])) return 2;
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
  wait_for_stdin_to_close();
  return 0;
}
