// Ten threads, each spending nearly all its time in a different blocking call, driven in rounds by the main thread:
// a checkpoint almost always finds every thread inside its call, and each must come back into it (or out of it with
// what it was waiting for) after a restore. Per round the main thread wakes each one its own way, waits until all
// have handled that round, and prints one line with every thread's running checksum; at the end it checks that
// every thread saw every round exactly once.
// usage: thr_blocking [ROUNDS=40] [MS=50] [EPOLL=1] [HOLD]   (EPOLL=0 leaves the epoll thread out: the engine may
// refuse an epoll instance for reasons of its own; HOLD: thr_common.h)
#include "thr_common.h"

#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <unistd.h>

enum { COND, SEM, TIMED, SLEEP, PIPE, POLL, EPOLL, SIGWAIT, SIGTIMED, JOIN, COUNT };
static const char *const names[COUNT] = { "cond", "sem", "timed", "sleep", "pipe", "poll", "epoll", "sigwait", "sigtimed", "join" };

#define MESSAGE_LENGTH 7  // "R00001\n": what main writes to each pipe every round

static long interval_ms;
static int total_rounds;
static atomic_int current_round;
static pthread_mutex_t round_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t round_tick = PTHREAD_COND_INITIALIZER;
static pthread_cond_t round_done = PTHREAD_COND_INITIALIZER;
static sem_t round_sem, join_sem;
static int pipe_fds[2], poll_fds[2], epoll_pipe[2], epoll_fd = -1;
static pthread_t threads[COUNT];
static int present[COUNT];
static uint64_t sums[COUNT];
static int handled[COUNT];
static const int RT_SIGNAL_OFFSET = 2;

// A thread has handled round r: the main thread may print once every present thread has.
static void handle(int who, int round, uint64_t value) {
  int now = atomic_load(&current_round);
  if (round != handled[who] + 1 || now != round) fail("%s handled round %d after %d while the main thread is at %d", names[who], round, handled[who], now);
  check_rc(pthread_mutex_lock(&round_lock), "lock");
  sums[who] = mix(sums[who], value);
  handled[who] = round;
  check_rc(pthread_cond_broadcast(&round_done), "broadcast");
  check_rc(pthread_mutex_unlock(&round_lock), "unlock");
}

static int read_message(int fd, const char *who) {
  char text[MESSAGE_LENGTH + 1];
  size_t got = 0;
  while (got < MESSAGE_LENGTH) {
    ssize_t n = read(fd, text + got, MESSAGE_LENGTH - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("%s: read returned %zd (%s)", who, n, n < 0 ? strerror(errno) : "end of file");
    got += (size_t)n;
  }
  text[MESSAGE_LENGTH] = 0;
  if (text[0] != 'R' || text[MESSAGE_LENGTH - 1] != '\n') fail("%s: garbled message %s", who, text);
  return atoi(text + 1);
}

static void *cond_thread(void *unused) {
  (void)unused;
  for (int r = 1; r <= total_rounds; r++) {
    check_rc(pthread_mutex_lock(&round_lock), "lock");
    while (atomic_load(&current_round) < r) check_rc(pthread_cond_wait(&round_tick, &round_lock), "cond_wait");
    check_rc(pthread_mutex_unlock(&round_lock), "unlock");
    handle(COND, r, (uint64_t)r * 3);
  }
  return NULL;
}

static void *timed_thread(void *unused) {
  (void)unused;
  for (int r = 1; r <= total_rounds; r++) {
    check_rc(pthread_mutex_lock(&round_lock), "lock");
    while (atomic_load(&current_round) < r) {
      struct timespec until = deadline_ms(interval_ms / 4 + 1);
      int rc = pthread_cond_timedwait(&round_tick, &round_lock, &until);
      if (rc != 0 && rc != ETIMEDOUT) fail("cond_timedwait: %s", strerror(rc));
    }
    check_rc(pthread_mutex_unlock(&round_lock), "unlock");
    handle(TIMED, r, (uint64_t)r * 5);
  }
  return NULL;
}

static void *sem_thread(void *unused) {
  (void)unused;
  for (int r = 1; r <= total_rounds; r++) {
    while (sem_wait(&round_sem) != 0)
      if (errno != EINTR) fail("sem_wait: %s", strerror(errno));
    handle(SEM, r, (uint64_t)r * 7);
  }
  return NULL;
}

static void *sleep_thread(void *unused) {
  (void)unused;
  for (int r = 1; r <= total_rounds; r++) {
    while (atomic_load(&current_round) < r) sleep_ms(interval_ms / 5 + 1);
    handle(SLEEP, r, (uint64_t)r * 11);
  }
  return NULL;
}

static void *pipe_thread(void *unused) {
  (void)unused;
  for (int r = 1; r <= total_rounds; r++) handle(PIPE, r, (uint64_t)read_message(pipe_fds[0], "pipe"));
  return NULL;
}

static void *poll_thread(void *unused) {
  (void)unused;
  for (int r = 1; r <= total_rounds; r++) {
    struct pollfd p = { .fd = poll_fds[0], .events = POLLIN };
    int ready;
    while ((ready = poll(&p, 1, (int)(interval_ms * 3 + 1))) <= 0)
      if (ready < 0 && errno != EINTR) fail("poll: %s", strerror(errno));
    if (!(p.revents & POLLIN)) fail("poll: revents %#x", p.revents);
    handle(POLL, r, (uint64_t)read_message(poll_fds[0], "poll") * 13);
  }
  return NULL;
}

static void *epoll_thread(void *unused) {
  (void)unused;
  for (int r = 1; r <= total_rounds; r++) {
    struct epoll_event event;
    int ready;
    while ((ready = epoll_wait(epoll_fd, &event, 1, -1)) != 1)
      if (ready < 0 && errno != EINTR) fail("epoll_wait: %s", strerror(errno));
    if (event.data.u32 != 42 || !(event.events & EPOLLIN)) fail("epoll_wait: event %#x data %u", event.events, event.data.u32);
    handle(EPOLL, r, (uint64_t)read_message(epoll_pipe[0], "epoll") * 17);
  }
  return NULL;
}

static void *sigwait_thread(void *unused) {
  (void)unused;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  for (int r = 1; r <= total_rounds; r++) {
    siginfo_t info;
    int got;
    while ((got = sigwaitinfo(&set, &info)) < 0)
      if (errno != EINTR) fail("sigwaitinfo: %s", strerror(errno));
    // Kernels differ in the code they give tgkill (SI_TKILL, or SI_USER on some): either is a pthread_kill.
    if (got != SIGUSR1 || (info.si_code != SI_TKILL && info.si_code != SI_USER)) fail("sigwaitinfo: signal %d code %d", got, info.si_code);
    handle(SIGWAIT, r, (uint64_t)r * 19);
  }
  return NULL;
}

static void *sigtimed_thread(void *unused) {
  (void)unused;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN + RT_SIGNAL_OFFSET);
  for (int r = 1; r <= total_rounds; r++) {
    siginfo_t info;
    int got;
    long wait_ms = interval_ms * 2 + 1;
    struct timespec timeout = { wait_ms / 1000, (wait_ms % 1000) * 1000000L };
    while ((got = sigtimedwait(&set, &info, &timeout)) < 0)
      if (errno != EINTR && errno != EAGAIN) fail("sigtimedwait: %s", strerror(errno));
    if (got != SIGRTMIN + RT_SIGNAL_OFFSET || info.si_code != SI_QUEUE || info.si_value.sival_int != r)
      fail("sigtimedwait: signal %d code %d value %d in round %d", got, info.si_code, info.si_value.sival_int, r);
    handle(SIGTIMED, r, (uint64_t)info.si_value.sival_int * 23);
  }
  return NULL;
}

// Lives from the round it was created in until the next one: the joiner meanwhile sits in pthread_join.
static void *joined_worker(void *born) {
  while (sem_wait(&join_sem) != 0)
    if (errno != EINTR) fail("sem_wait(join): %s", strerror(errno));
  int now = atomic_load(&current_round);
  if (now != (int)(intptr_t)born + 1) fail("worker born in round %d woke in round %d", (int)(intptr_t)born, now);
  return (void *)(intptr_t)(now * 29);
}

static void *join_thread(void *unused) {
  (void)unused;
  pthread_t worker;
  check_rc(pthread_create(&worker, NULL, joined_worker, (void *)(intptr_t)0), "pthread_create(worker)");
  for (int r = 1; r <= total_rounds; r++) {
    void *result;
    check_rc(pthread_join(worker, &result), "pthread_join");
    if ((intptr_t)result != r * 29) fail("joined worker returned %ld in round %d", (long)(intptr_t)result, r);
    if (r < total_rounds) check_rc(pthread_create(&worker, NULL, joined_worker, (void *)(intptr_t)r), "pthread_create(worker)");
    handle(JOIN, r, (uint64_t)(intptr_t)result);
  }
  return NULL;
}

static void send_message(int fd, int round) {
  char text[16];
  snprintf(text, sizeof text, "R%05d\n", round % 100000);
  if (write(fd, text, MESSAGE_LENGTH) != MESSAGE_LENGTH) fail("write: %s", strerror(errno));
}

// Wakes every thread for round r, each through the call it sits in.
static void start_round(int r) {
  check_rc(pthread_mutex_lock(&round_lock), "lock");
  atomic_store(&current_round, r);
  check_rc(pthread_cond_broadcast(&round_tick), "broadcast");
  check_rc(pthread_mutex_unlock(&round_lock), "unlock");
  if (sem_post(&round_sem) != 0 || sem_post(&join_sem) != 0) fail("sem_post: %s", strerror(errno));
  send_message(pipe_fds[1], r);
  send_message(poll_fds[1], r);
  if (present[EPOLL]) send_message(epoll_pipe[1], r);
  check_rc(pthread_kill(threads[SIGWAIT], SIGUSR1), "pthread_kill");
  check_rc(pthread_sigqueue(threads[SIGTIMED], SIGRTMIN + RT_SIGNAL_OFFSET, (union sigval){ .sival_int = r }), "pthread_sigqueue");
}

static void wait_round_handled(int r) {
  check_rc(pthread_mutex_lock(&round_lock), "lock");
  for (int i = 0; i < COUNT; i++)
    while (present[i] && handled[i] < r) check_rc(pthread_cond_wait(&round_done, &round_lock), "cond_wait");
  check_rc(pthread_mutex_unlock(&round_lock), "unlock");
}

int main(int argc, char **argv) {
  parse_rounds(argc, argv, &total_rounds, &interval_ms, 40, 50);
  int use_epoll = argc > 3 ? atoi(argv[3]) : 1;
  void *(*const bodies[COUNT])(void *) = { cond_thread, sem_thread, timed_thread, sleep_thread, pipe_thread,
                                           poll_thread, epoll_thread, sigwait_thread, sigtimed_thread, join_thread };
  // Both signals stay blocked in every thread (inherited from here), so only sigwaitinfo/sigtimedwait take them.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR1);
  sigaddset(&blocked, SIGRTMIN + RT_SIGNAL_OFFSET);
  check_rc(pthread_sigmask(SIG_BLOCK, &blocked, NULL), "pthread_sigmask");
  if (sem_init(&round_sem, 0, 0) != 0 || sem_init(&join_sem, 0, 0) != 0) fail("sem_init: %s", strerror(errno));
  if (pipe(pipe_fds) != 0 || pipe(poll_fds) != 0) fail("pipe: %s", strerror(errno));
  if (use_epoll) {
    if (pipe(epoll_pipe) != 0 || (epoll_fd = epoll_create1(0)) < 0) fail("epoll setup: %s", strerror(errno));
    struct epoll_event watch = { .events = EPOLLIN, .data.u32 = 42 };
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, epoll_pipe[0], &watch) != 0) fail("epoll_ctl: %s", strerror(errno));
  }
  for (int i = 0; i < COUNT; i++) {
    present[i] = i != EPOLL || use_epoll;
    sums[i] = MIX_SEED;
    if (present[i]) check_rc(pthread_create(&threads[i], NULL, bodies[i], NULL), "pthread_create");
  }
  for (int r = 1; r <= total_rounds; r++) {
    sleep_ms(interval_ms);
    start_round(r);
    wait_round_handled(r);
    printf("round %d", r);
    for (int i = 0; i < COUNT; i++)
      if (present[i]) printf(" %s=%04x", names[i], (unsigned)(sums[i] & 0xffff));
    printf("\n");
    fflush(stdout);
    hold_after(r, total_rounds, argc > 4 ? argv[4] : NULL);
  }
  int threads_done = 0;
  for (int i = 0; i < COUNT; i++) {
    if (!present[i]) continue;
    check_rc(pthread_join(threads[i], NULL), "pthread_join");
    if (handled[i] != total_rounds) fail("%s handled %d of %d rounds", names[i], handled[i], total_rounds);
    threads_done++;
  }
  uint64_t total = MIX_SEED;
  for (int i = 0; i < COUNT; i++) total = mix(total, sums[i]);
  printf("thr_blocking done threads=%d rounds=%d total=%016llx\n", threads_done, total_rounds, (unsigned long long)total);
  return 0;
}
