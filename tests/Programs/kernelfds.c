// An event loop over descriptors on kernel objects, as threaded runtimes hold them: an epoll instance watching an
// eventfd (edge-triggered), a periodic timerfd, a signalfd, the read end of a self-pipe (one-shot, re-armed each
// round) and a nested epoll; a memfd mapped twice (read-write and read-only, as W^X JITs do), sealed and sparse; an
// eventfd counter that only grows, an expired one-shot timerfd and an absolute realtime timerfd read at the end.
// Every line it prints is the same in every run, so a restored copy's output can be compared byte for byte.
// usage: kernelfds ROUNDS [HOLD]   HOLD: after printing round HOLD it waits for SIGWINCH (blocked, taken by sigwait), so
// that a test finds it running however slow the machine; the output is the same with or without it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TAG_EVENT 0x1111000000000001ULL
#define TAG_TIMER 2
#define TAG_SIGNAL 0xfedcba9876543210ULL
#define TAG_PIPE 4
#define TAG_INNER 5
#define TAG_NESTED 0xabc
#define MEMFD_SIZE (64 << 20)

static int fail(const char *what) { perror(what); exit(1); }

static void add(int ep, int fd, uint32_t events, uint64_t tag) {
  struct epoll_event ev = { .events = events, .data.u64 = tag };
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) fail("epoll_ctl");
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 40;
  int hold = argc > 2 ? atoi(argv[2]) : -1;
  sigset_t winch;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  if (hold >= 0 && sigprocmask(SIG_BLOCK, &winch, NULL)) fail("sigprocmask SIGWINCH");
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int inner_efd = eventfd(0, EFD_NONBLOCK);
  int acc = eventfd(0, EFD_NONBLOCK);
  int sem = eventfd(30, EFD_SEMAPHORE | EFD_NONBLOCK);
  uint64_t big = 0x100000000ULL;
  if (write(acc, &big, 8) != 8) fail("write acc");

  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct itimerspec period = { { 0, 30 * 1000 * 1000 }, { 0, 30 * 1000 * 1000 } };
  if (timerfd_settime(tfd, 0, &period, NULL)) fail("timerfd_settime");
  int oneshot = timerfd_create(CLOCK_BOOTTIME, 0);
  struct itimerspec soon = { { 0, 0 }, { 0, 1000 } };
  if (timerfd_settime(oneshot, 0, &soon, NULL)) fail("timerfd_settime oneshot");
  int later = timerfd_create(CLOCK_REALTIME, 0);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec hour = { { 0, 0 }, { now.tv_sec + 3600, 0 } };
  if (timerfd_settime(later, TFD_TIMER_ABSTIME, &hour, NULL)) fail("timerfd_settime abs");

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  sigaddset(&mask, SIGUSR2);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK);

  int p[2];
  if (pipe2(p, O_NONBLOCK)) fail("pipe2");

  int mfd = memfd_create("kernelfds", MFD_ALLOW_SEALING);
  if (mfd < 0 || ftruncate(mfd, MEMFD_SIZE)) fail("memfd");
  char *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
  char *ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0);
  char *far = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, MEMFD_SIZE - 4096);
  if (rw == MAP_FAILED || ro == MAP_FAILED || far == MAP_FAILED) fail("mmap memfd");
  strcpy(far, "tail page");
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK)) fail("F_ADD_SEALS");
  if (lseek(mfd, 100, SEEK_SET) != 100) fail("lseek");

  int inner = epoll_create1(0);
  add(inner, inner_efd, EPOLLIN, TAG_NESTED);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  add(ep, efd, EPOLLIN | EPOLLET, TAG_EVENT);
  add(ep, tfd, EPOLLIN, TAG_TIMER);
  add(ep, sfd, EPOLLIN, TAG_SIGNAL);
  add(ep, p[0], EPOLLIN | EPOLLONESHOT, TAG_PIPE);
  add(ep, inner, EPOLLIN, TAG_INNER);

  uint64_t ticks = 0, sum = 0;
  for (int i = 0; i < rounds; i++) {
    uint64_t one = 1, value = (uint64_t)i + 1;
    if (write(efd, &value, 8) != 8 || write(inner_efd, &one, 8) != 8 || write(acc, &value, 8) != 8) fail("write eventfd");
    sum += value;
    if (i % 2 == 0) kill(getpid(), i % 4 == 0 ? SIGUSR1 : SIGUSR2);
    char c = 'a' + i % 26;
    if (write(p[1], &c, 1) != 1) fail("write pipe");
    sprintf(rw, "gen-%d", i);

    int got_event = 0, got_signal = i % 2 != 0, got_pipe = 0, got_inner = 0, got_tick = 0;
    uint64_t counter = 0;
    int signo = 0, nested = 0;
    char byte = 0;
    while (!got_event || !got_signal || !got_pipe || !got_inner || !got_tick) {
      struct epoll_event evs[8];
      int n = epoll_wait(ep, evs, 8, 5000);
      if (n < 0 && errno == EINTR) continue;  // epoll_wait is never restarted after a stop (signal(7)): event loops retry
      if (n <= 0) { printf("round %d: epoll_wait gave %d (event %d signal %d pipe %d inner %d tick %d)\n", i, n, got_event, got_signal, got_pipe, got_inner, got_tick); return 1; }
      for (int k = 0; k < n; k++) {
        uint64_t tag = evs[k].data.u64, t;
        if (tag == TAG_EVENT) { if (read(efd, &counter, 8) == 8) got_event = 1; }
        else if (tag == TAG_TIMER) { if (read(tfd, &t, 8) == 8) { ticks += t; got_tick = 1; } }
        else if (tag == TAG_SIGNAL) {
          struct signalfd_siginfo si;
          if (read(sfd, &si, sizeof si) == sizeof si) { signo = si.ssi_signo; got_signal = 1; }
        } else if (tag == TAG_PIPE) {
          if (read(p[0], &byte, 1) == 1) got_pipe = 1;
          struct epoll_event again = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = TAG_PIPE };
          if (epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &again)) fail("epoll_ctl mod");
        } else if (tag == TAG_INNER && !got_inner) {
          struct epoll_event in;
          if (epoll_wait(inner, &in, 1, 0) == 1 && in.data.u64 == TAG_NESTED) nested = 1;
          if (read(inner_efd, &t, 8) == 8) got_inner = 1;
        } else if (tag != TAG_INNER) {
          printf("round %d: unknown epoll data %llx\n", i, (unsigned long long)tag);
          return 1;
        }
      }
    }
    uint64_t token;
    const char *s = read(sem, &token, 8) == 8 ? "took" : "empty";
    char via_fd[16] = { 0 };
    if (pread(mfd, via_fd, sizeof via_fd - 1, 0) < 0) fail("pread");
    printf("round %d: eventfd %llu signal %d pipe %c nested %d semaphore %s memfd %s/%s\n", i, (unsigned long long)counter,
           signo, byte, nested, s, ro, via_fd);
    fflush(stdout);
    int sig;
    if (i == hold && sigwait(&winch, &sig)) fail("sigwait");
  }
  uint64_t total = 0, fired = 0;
  if (read(acc, &total, 8) != 8 || read(oneshot, &fired, 8) != 8) fail("read at end");
  struct itimerspec left;
  timerfd_gettime(later, &left);
  struct itimerspec interval;
  timerfd_gettime(tfd, &interval);
  printf("accumulated %s; one-shot ticks %llu; absolute timer %s; interval %ld ns; ticks %s\n",
         total == big + sum ? "ok" : "WRONG", (unsigned long long)fired,
         left.it_value.tv_sec > 3000 && left.it_value.tv_sec <= 3600 ? "ok" : "WRONG", interval.it_interval.tv_nsec,
         ticks >= (uint64_t)rounds ? "enough" : "too few");
  printf("memfd seals 0x%x offset %ld far %s flags %s\n", fcntl(mfd, F_GET_SEALS), (long)lseek(mfd, 0, SEEK_CUR), far,
         (fcntl(efd, F_GETFL) & O_NONBLOCK) && (fcntl(ep, F_GETFD) & FD_CLOEXEC) && !(fcntl(inner, F_GETFD) & FD_CLOEXEC) ? "ok" : "WRONG");
  return 0;
}
