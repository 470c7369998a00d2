// Holds one thing the engine cannot move, prints "ready", then waits for stdin to close.
// usage: eng_unmovable mainexit|tcp|shared|pipe|deleted|inotify|io_uring|epollclosed|memfdmap|timer
//                      |threadfiles|threadfs|threadnet|threadtracer
// mainexit: the main thread ends (pthread_exit) and a second thread waits for stdin instead.
// thread*: a second thread holds it: a descriptor table of its own (unshare CLONE_FILES), a working directory of its
// own (unshare CLONE_FS), a network namespace of its own (unshare CLONE_NEWNET, as root), or a traced child.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void wait_for_stdin_to_close(void) {
  char c;
  while (read(0, &c, 1) > 0) {}
}

static void *waiter(void *arg) { (void)arg; wait_for_stdin_to_close(); exit(0); }

static pthread_mutex_t set_up_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t set_up_done = PTHREAD_COND_INITIALIZER;
static int set_up_result = -1;

// A thread that makes some of its kernel state its own, then stays (parked) while the main thread waits for stdin.
__attribute__((noreturn)) static void *apart(void *arg) {
  const char *what = arg;
  int ok = 0;
  if (!strcmp(what, "threadfiles")) ok = unshare(CLONE_FILES) == 0;
  else if (!strcmp(what, "threadfs")) ok = unshare(CLONE_FS) == 0 && chdir("/") == 0;
  else if (!strcmp(what, "threadnet")) ok = unshare(CLONE_NEWNET) == 0;
  else if (!strcmp(what, "threadtracer")) {
    pid_t child = fork();  // traced by this thread, not by the main thread
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (;;) pause();
    }
    ok = child > 0 && ptrace(PTRACE_SEIZE, child, NULL, NULL) == 0;
  }
  pthread_mutex_lock(&set_up_lock);
  set_up_result = ok;
  pthread_cond_signal(&set_up_done);
  pthread_mutex_unlock(&set_up_lock);
  for (;;) pause();
}

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
    // Anonymous shared memory travels when only this process maps it: a forked child maps it too.
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    p[0] = 1;
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) return 2;
    if (child == 0) {
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(0);
      for (;;) pause();
    }
  } else if (!strcmp(what, "pipe")) {
    // Only the read end stays, with a byte still to read: it must reach this reader, and the pipe's buffer cannot
    // travel without taking it out (an empty pipe nobody can write to would travel, rebuilt without a write end).
    int p[2];
    if (pipe(p) || p[0] != 3 || write(p[1], "x", 1) != 1 || close(p[1])) return 2;
  } else if (!strcmp(what, "deleted")) {
    char path[] = "/tmp/eng_unmovable.XXXXXX";
    int fd = mkstemp(path);
    if (fd != 3 || unlink(path)) return 2;
  } else if (!strcmp(what, "inotify")) {
    int in = inotify_init1(0);
    if (in != 3 || inotify_add_watch(in, "/tmp", IN_CREATE) < 0 || inotify_add_watch(in, "/", IN_DELETE) < 0) return 2;
  } else if (!strcmp(what, "io_uring")) {
    char params[120] = { 0 };  // struct io_uring_params
    if (syscall(SYS_io_uring_setup, 4, params) != 3) return 2;
  } else if (!strcmp(what, "epollclosed")) {
    // fd 5 (a duplicate of the eventfd at fd 4) is registered, then closed: the eventfd stays in the set under 5.
    int ep = epoll_create1(0), e = eventfd(0, 0), d = dup(e);
    struct epoll_event ev = { .events = EPOLLIN };
    if (ep != 3 || d != 5 || epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev) || close(d)) return 2;
  } else if (!strcmp(what, "memfdmap")) {
    int m = memfd_create("gone", 0);  // mapped shared, then its only descriptor closed
    if (m != 3 || ftruncate(m, 4096) || mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0) == MAP_FAILED || close(m)) return 2;
  } else if (!strncmp(what, "thread", 6)) {
    pthread_t t;
    if (pthread_create(&t, NULL, apart, (void *)what)) return 2;
    pthread_mutex_lock(&set_up_lock);
    while (set_up_result < 0) pthread_cond_wait(&set_up_done, &set_up_lock);
    pthread_mutex_unlock(&set_up_lock);
    if (!set_up_result) return 2;
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
