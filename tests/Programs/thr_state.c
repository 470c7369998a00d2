// Per-thread kernel and glibc state that a restore must give back to each thread, checked by each thread itself
// every round: its own signal mask, its own pending signals (a real-time one carrying the round number, taken and
// queued again each round, and SIGUSR1 kept pending for good in odd threads), its own sigaltstack (and a handler that really runs on it), its name (comm),
// its nice value, its scheduling policy (SCHED_BATCH on one thread, SCHED_IDLE on another), its __thread
// variables, and glibc's cached TID (which must match the kernel's gettid, even if the TID changed: pthread_kill
// on itself must work, and an error-checking mutex held across the round's sleep must unlock); its registrations
// with the kernel (glibc's rseq area and robust futex list, asked again of the kernel) and its gs base (set to a
// value of its own by odd threads; glibc uses only fs, for __thread).
// usage: thr_state [ROUNDS=40] [MS=50] [HOLD]   (HOLD: thr_common.h)
#include "thr_common.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <asm/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 4
#define ALT_STACK_SIZE (64 * 1024)
#define PROBE_SIGNAL (SIGRTMIN + 1)  // unblocked everywhere; its handler runs on the alternate stack

static int total_rounds;
static long interval_ms;
static pthread_barrier_t checked, printed;
static char reports[THREADS][160];

static __thread int rounds_seen;
static __thread uint64_t tls_pattern[8];
static __thread char *alt_base;
static __thread volatile int probe_runs, probe_on_alt_stack;
static __thread void *robust_head;  // as glibc registered it when the thread started

static const int policies[THREADS] = { SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_OTHER };

static const char *policy_name(int policy) {
  switch (policy) {
    case SCHED_OTHER: return "other";
    case SCHED_BATCH: return "batch";
    case SCHED_IDLE: return "idle";
    default: return "unexpected";
  }
}

static void on_probe(int signal, siginfo_t *info, void *context) {
  (void)signal, (void)info, (void)context;
  char here;
  stack_t now;
  probe_runs++;
  probe_on_alt_stack = alt_base && &here >= alt_base && &here < alt_base + ALT_STACK_SIZE && sigaltstack(NULL, &now) == 0
                       && (now.ss_flags & SS_ONSTACK);
}

static pid_t kernel_tid(void) { return (pid_t)syscall(SYS_gettid); }

// glibc's cached TID, as it writes it into a mutex it locks: it must be what the kernel says this thread is.
static void check_cached_tid(const char *who) {
  pthread_mutex_t probe = PTHREAD_MUTEX_INITIALIZER;
  check_rc(pthread_mutex_lock(&probe), "lock(probe)");
  int cached = probe.__data.__owner;
  check_rc(pthread_mutex_unlock(&probe), "unlock(probe)");
  if (cached != kernel_tid()) fail("%s: glibc caches TID %d, the kernel says %d", who, cached, kernel_tid());
  if (pthread_kill(pthread_self(), 0) != 0) fail("%s: pthread_kill(self, 0) fails", who);
}

// The robust list the kernel holds for this thread must be glibc's, and its rseq area must still be registered: asked
// to register the same area again, the kernel answers EBUSY (a thread without one would be registered now, silently).
static void note_registrations(void) {
  size_t length;
  if (syscall(SYS_get_robust_list, 0, &robust_head, &length) != 0 || !robust_head) fail("get_robust_list: %s", strerror(errno));
}

static void check_registrations(const char *who) {
  void *head = NULL;
  size_t length;
  if (syscall(SYS_get_robust_list, 0, &head, &length) != 0 || head != robust_head)
    fail("%s: robust list is now %p, glibc registered %p", who, head, robust_head);
  if (__rseq_size == 0) return;  // rseq off (glibc.pthread.rseq=0, or a kernel without it)
  struct rseq *area = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
  // glibc registers at least the original 32-byte struct rseq, even where it says fewer bytes are in use.
  unsigned length_registered = __rseq_size < sizeof(struct rseq) ? sizeof(struct rseq) : __rseq_size;
  if (syscall(SYS_rseq, area, length_registered, 0, RSEQ_SIG) != -1 || errno != EBUSY)
    fail("%s: its rseq area %p is not registered any more (%s)", who, (void *)area, strerror(errno));
}

// Odd threads give their gs base a value of their own, which nothing else sets: it must come back with the thread.
static unsigned long expected_gs(int index) { return index & 1 ? 0x6a5a00000000UL + ((unsigned long)index << 12) : 0; }

static void check_gs(int index, const char *who) {
  unsigned long gs = 1;
  if (syscall(SYS_arch_prctl, ARCH_GET_GS, &gs) != 0 || gs != expected_gs(index))
    fail("%s: gs base is now %#lx, set %#lx", who, gs, expected_gs(index));
}

static void expected_mask(int index, sigset_t *set) {
  sigemptyset(set);
  if (index & 1) sigaddset(set, SIGUSR1);
  if (index & 2) sigaddset(set, SIGUSR2);
  sigaddset(set, SIGRTMIN + 3 + index);
}

static unsigned long long mask_bits(const sigset_t *set) {
  unsigned long long bits = 0;
  for (int s = 1; s <= 64; s++)
    if (sigismember(set, s) == 1) bits |= 1ULL << (s - 1);
  return bits;
}

// The line of /proc/self/task/TID/FILE that starts with KEY (the whole first line if KEY is empty), without "\n".
static void read_task_line(const char *file_name, const char *key, char *line, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/%s", kernel_tid(), file_name);
  FILE *file = fopen(path, "r");
  if (!file) fail("cannot open %s", path);
  int found = 0;
  while (!found && fgets(line, (int)size, file)) found = strncmp(line, key, strlen(key)) == 0;
  fclose(file);
  if (!found) fail("no %s line in %s", key, path);
  line[strcspn(line, "\n")] = 0;
}

static void check_comm(const char *expected) {
  char comm[32];
  read_task_line("comm", "", comm, sizeof comm);
  if (strcmp(comm, expected) != 0) fail("%s: comm is now %s", expected, comm);
}

// Signals pending for this thread alone (not the process), from the kernel's own view.
static unsigned long long thread_pending(void) {
  char line[128];
  read_task_line("status", "SigPnd:", line, sizeof line);
  return strtoull(line + strlen("SigPnd:"), NULL, 16);
}

// Takes the thread's queued real-time signal (which must carry the previous round) and queues the next one.
static void cycle_queued_signal(int index, const char *name, int round) {
  int number = SIGRTMIN + 3 + index;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, number);
  siginfo_t info;
  struct timespec now = { 0, 0 };
  int got = sigtimedwait(&set, &info, &now);
  if (got != number || info.si_code != SI_QUEUE || info.si_value.sival_int != round - 1)
    fail("%s: queued signal %d came as %d code %d value %d in round %d", name, number, got, info.si_code, info.si_value.sival_int, round);
  check_rc(pthread_sigqueue(pthread_self(), number, (union sigval){ .sival_int = round }), "pthread_sigqueue");
}

static void set_up(int index, const char *name) {
  check_rc(pthread_setname_np(pthread_self(), name), "setname");
  sigset_t mask;
  expected_mask(index, &mask);
  check_rc(pthread_sigmask(SIG_SETMASK, &mask, NULL), "pthread_sigmask");
  alt_base = malloc(ALT_STACK_SIZE);
  stack_t alt = { .ss_sp = alt_base, .ss_size = ALT_STACK_SIZE, .ss_flags = 0 };
  if (!alt_base || sigaltstack(&alt, NULL) != 0) fail("%s: sigaltstack: %s", name, strerror(errno));
  struct sched_param param = { 0 };
  if (sched_setscheduler(0, policies[index], &param) != 0) fail("%s: sched_setscheduler: %s", name, strerror(errno));
  if (setpriority(PRIO_PROCESS, (id_t)kernel_tid(), index + 1) != 0) fail("%s: setpriority: %s", name, strerror(errno));
  for (int i = 0; i < 8; i++) tls_pattern[i] = mix(MIX_SEED, (uint64_t)(index * 8 + i));
  note_registrations();
  if (expected_gs(index) && syscall(SYS_arch_prctl, ARCH_SET_GS, expected_gs(index)) != 0) fail("%s: ARCH_SET_GS: %s", name, strerror(errno));
  // Both stay pending for this thread only (both are blocked here): a restore must give them back to this thread.
  if (index & 1) check_rc(pthread_kill(pthread_self(), SIGUSR1), "pthread_kill(SIGUSR1)");
  check_rc(pthread_sigqueue(pthread_self(), SIGRTMIN + 3 + index, (union sigval){ .sival_int = 0 }), "pthread_sigqueue");
}

static void check_state(int index, const char *name, int round) {
  sigset_t mask, wanted;
  check_rc(pthread_sigmask(SIG_BLOCK, NULL, &mask), "pthread_sigmask");
  expected_mask(index, &wanted);
  if (mask_bits(&mask) != mask_bits(&wanted)) fail("%s: mask %llx, set %llx", name, mask_bits(&mask), mask_bits(&wanted));
  unsigned long long pending = thread_pending();
  unsigned long long expected_pending = (index & 1 ? 1ULL << (SIGUSR1 - 1) : 0) | 1ULL << (SIGRTMIN + 3 + index - 1);
  if (pending != expected_pending) fail("%s: pending %llx, expected %llx", name, pending, expected_pending);
  cycle_queued_signal(index, name, round);
  stack_t alt;
  if (sigaltstack(NULL, &alt) != 0 || alt.ss_sp != alt_base || alt.ss_size != ALT_STACK_SIZE || alt.ss_flags != 0)
    fail("%s: sigaltstack is now %p+%zu flags %d, set %p+%d", name, alt.ss_sp, alt.ss_size, alt.ss_flags, (void *)alt_base, ALT_STACK_SIZE);
  int runs = probe_runs;
  check_rc(pthread_kill(pthread_self(), PROBE_SIGNAL), "pthread_kill(probe)");
  if (probe_runs != runs + 1 || !probe_on_alt_stack) fail("%s: probe handler ran %d times, on its alt stack: %d", name, probe_runs - runs, probe_on_alt_stack);
  check_comm(name);
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, (id_t)kernel_tid());
  if (errno != 0 || nice != index + 1) fail("%s: nice is now %d (%s), set %d", name, nice, strerror(errno), index + 1);
  int policy = sched_getscheduler(0);
  if (policy != policies[index]) fail("%s: policy is now %d, set %s", name, policy, policy_name(policies[index]));
  for (int i = 0; i < 8; i++)
    if (tls_pattern[i] != mix(MIX_SEED, (uint64_t)(index * 8 + i))) fail("%s: __thread array changed", name);
  if (++rounds_seen != round) fail("%s: __thread counter is %d in round %d", name, rounds_seen, round);
  check_cached_tid(name);
  check_registrations(name);
  check_gs(index, name);
  snprintf(reports[index], sizeof reports[index], "%s:mask=%llx:pend=%llx:nice=%d:%s:tls=%d:alt=%d", name, mask_bits(&mask), pending, nice,
           policy_name(policy), rounds_seen, probe_runs);
}

static void *run(void *argument) {
  int index = (int)(intptr_t)argument;
  char name[16];
  snprintf(name, sizeof name, "state-%d", index);
  set_up(index, name);
  pthread_mutexattr_t attributes;
  pthread_mutex_t held;
  check_rc(pthread_mutexattr_init(&attributes), "mutexattr_init");
  check_rc(pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ERRORCHECK), "settype");
  check_rc(pthread_mutex_init(&held, &attributes), "mutex_init");
  for (int r = 1; r <= total_rounds; r++) {
    // Held across the sleep, where a checkpoint most likely finds the thread: its owner field holds the TID.
    check_rc(pthread_mutex_lock(&held), "lock(errorcheck)");
    sleep_ms(interval_ms);
    check_state(index, name, r);
    int unlocked = pthread_mutex_unlock(&held);
    if (unlocked != 0) fail("%s: unlocking its error-checking mutex: %s", name, strerror(unlocked));
    pthread_barrier_wait(&checked);
    pthread_barrier_wait(&printed);
  }
  return NULL;
}

int main(int argc, char **argv) {
  parse_rounds(argc, argv, &total_rounds, &interval_ms, 40, 50);
  struct sigaction probe = { .sa_sigaction = on_probe, .sa_flags = SA_SIGINFO | SA_ONSTACK };
  sigemptyset(&probe.sa_mask);
  if (sigaction(PROBE_SIGNAL, &probe, NULL) != 0) fail("sigaction: %s", strerror(errno));
  note_registrations();
  check_rc(pthread_barrier_init(&checked, NULL, THREADS + 1), "barrier_init");
  check_rc(pthread_barrier_init(&printed, NULL, THREADS + 1), "barrier_init");
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) check_rc(pthread_create(&threads[i], NULL, run, (void *)(intptr_t)i), "pthread_create");
  for (int r = 1; r <= total_rounds; r++) {
    pthread_barrier_wait(&checked);
    check_cached_tid("main");
    check_registrations("main");
    printf("round %d", r);
    for (int i = 0; i < THREADS; i++) printf(" %s", reports[i]);
    printf("\n");
    fflush(stdout);
    hold_after(r, total_rounds, argc > 3 ? argv[3] : NULL);
    pthread_barrier_wait(&printed);
  }
  for (int i = 0; i < THREADS; i++) check_rc(pthread_join(threads[i], NULL), "pthread_join");
  printf("thr_state done threads=%d rounds=%d\n", THREADS, total_rounds);
  return 0;
}
