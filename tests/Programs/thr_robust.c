// A robust mutex across a run, in rounds: until round R/3 a holder thread keeps it locked while a waiter tries
// pthread_mutex_timedlock over and over (always ETIMEDOUT); then the holder unlocks and the waiter gets it. Next a
// third thread locks it and, in round 2R/3, exits still holding it: the kernel must find the mutex on that thread's
// robust list, so the recoverer waiting for it gets EOWNERDEAD, makes it consistent and can lock it normally again.
// After that the main thread locks and unlocks it every round. Owner TIDs live in the mutex word, so this is also
// what goes wrong if a restore changes a thread's TID or loses its robust list.
// usage: thr_robust [ROUNDS=30] [MS=50] [HOLD]   (ROUNDS >= 6)
// HOLD: a file; after the line of round 2R/3 - 1 the program waits (10 ms sleeps) until it exists, printing nothing
// about it. Not after round R - 5 as the other thr_ programs (thr_common.h): there this one has its main thread alone,
// and a test that moves it while it holds must find every thread at work, the dier holding the mutex and the
// recoverer in its timed lock, with the owner's death still to come once the test lets it go.
#include "thr_common.h"

#include <pthread.h>

static long interval_ms;
static int release_round, death_round;
static pthread_mutex_t robust;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t state_changed = PTHREAD_COND_INITIALIZER;
static int round_now;
static int holder_holds, waiter_got_it, dier_holds, recovered;  // the round it happened in; 0 until then

static void set_state(int *field, int value) {
  check_rc(pthread_mutex_lock(&state_lock), "lock");
  *field = value;
  check_rc(pthread_cond_broadcast(&state_changed), "broadcast");
  check_rc(pthread_mutex_unlock(&state_lock), "unlock");
}

static int current_round(void) {
  check_rc(pthread_mutex_lock(&state_lock), "lock");
  int r = round_now;
  check_rc(pthread_mutex_unlock(&state_lock), "unlock");
  return r;
}

// Blocks until *field is set, for at most 10 s: a thread that never gets there is a failure, not a hang.
static void await_state(const int *field, const char *what) {
  struct timespec until = deadline_ms(10000);
  check_rc(pthread_mutex_lock(&state_lock), "lock");
  while (*field == 0)
    if (pthread_cond_timedwait(&state_changed, &state_lock, &until) == ETIMEDOUT) fail("%s did not happen within 10 s", what);
  check_rc(pthread_mutex_unlock(&state_lock), "unlock");
}

static void await_round(int round) {
  check_rc(pthread_mutex_lock(&state_lock), "lock");
  while (round_now < round) check_rc(pthread_cond_wait(&state_changed, &state_lock), "cond_wait");
  check_rc(pthread_mutex_unlock(&state_lock), "unlock");
}

// Retries a short timed lock until it ends with something other than ETIMEDOUT, which it returns.
static int timed_lock_until_not_timeout(void) {
  for (;;) {
    struct timespec until = deadline_ms(interval_ms / 2 + 1);
    int rc = pthread_mutex_timedlock(&robust, &until);
    if (rc != ETIMEDOUT) return rc;
  }
}

static void *holder(void *unused) {
  (void)unused;
  check_rc(pthread_mutex_lock(&robust), "holder lock");
  set_state(&holder_holds, 1);
  await_round(release_round);
  check_rc(pthread_mutex_unlock(&robust), "holder unlock");
  return NULL;
}

static void *waiter(void *unused) {
  (void)unused;
  int rc = timed_lock_until_not_timeout();
  int r = current_round();
  if (rc != 0) fail("waiter: timedlock gave %s", strerror(rc));
  if (r != release_round) fail("waiter got the mutex in round %d, the holder let go in round %d", r, release_round);
  check_rc(pthread_mutex_unlock(&robust), "waiter unlock");
  set_state(&waiter_got_it, r);
  return NULL;
}

static void *dier(void *unused) {
  (void)unused;
  check_rc(pthread_mutex_lock(&robust), "dier lock");
  set_state(&dier_holds, current_round());
  await_round(death_round);
  return NULL;  // exits holding the mutex: the kernel marks it owner-died from this thread's robust list
}

static void *recoverer(void *unused) {
  (void)unused;
  int rc = timed_lock_until_not_timeout();
  int r = current_round();
  if (rc != EOWNERDEAD) fail("recoverer: timedlock gave %s (%d), not EOWNERDEAD", strerror(rc), rc);
  if (r != death_round) fail("recoverer saw the owner dead in round %d, it died in round %d", r, death_round);
  check_rc(pthread_mutex_consistent(&robust), "pthread_mutex_consistent");
  check_rc(pthread_mutex_unlock(&robust), "recoverer unlock");
  check_rc(pthread_mutex_lock(&robust), "recoverer relock");
  check_rc(pthread_mutex_unlock(&robust), "recoverer unlock again");
  set_state(&recovered, r);
  return NULL;
}

static const char *owner_at(int r) {
  if (r < release_round) return "holder";
  if (r == release_round) return "none(holder released, waiter took and released it)";
  if (r < death_round) return "dier";
  if (r == death_round) return "none(dier died holding it, recoverer made it consistent)";
  return "none(main locked and unlocked it)";
}

int main(int argc, char **argv) {
  int rounds;
  parse_rounds(argc, argv, &rounds, &interval_ms, 30, 50);
  if (rounds < 6) fail("ROUNDS must be at least 6");
  release_round = rounds / 3;
  death_round = 2 * rounds / 3;
  pthread_mutexattr_t attributes;
  check_rc(pthread_mutexattr_init(&attributes), "mutexattr_init");
  check_rc(pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST), "setrobust");
  check_rc(pthread_mutex_init(&robust, &attributes), "mutex_init");

  pthread_t holder_thread, waiter_thread, dier_thread, recoverer_thread;
  check_rc(pthread_create(&holder_thread, NULL, holder, NULL), "pthread_create(holder)");
  await_state(&holder_holds, "the holder locking the mutex");
  check_rc(pthread_create(&waiter_thread, NULL, waiter, NULL), "pthread_create(waiter)");
  for (int r = 1; r <= rounds; r++) {
    sleep_ms(interval_ms);
    check_rc(pthread_mutex_lock(&state_lock), "lock");
    round_now = r;
    check_rc(pthread_cond_broadcast(&state_changed), "broadcast");
    check_rc(pthread_mutex_unlock(&state_lock), "unlock");
    if (r == release_round) {
      await_state(&waiter_got_it, "the waiter getting the mutex");
      check_rc(pthread_join(holder_thread, NULL), "join(holder)");
      check_rc(pthread_join(waiter_thread, NULL), "join(waiter)");
    } else if (r == release_round + 1) {
      check_rc(pthread_create(&dier_thread, NULL, dier, NULL), "pthread_create(dier)");
      await_state(&dier_holds, "the dier locking the mutex");
      check_rc(pthread_create(&recoverer_thread, NULL, recoverer, NULL), "pthread_create(recoverer)");
    } else if (r == death_round) {
      await_state(&recovered, "the recoverer getting the mutex back");
      check_rc(pthread_join(dier_thread, NULL), "join(dier)");
      check_rc(pthread_join(recoverer_thread, NULL), "join(recoverer)");
    } else if (r > death_round) {
      check_rc(pthread_mutex_lock(&robust), "main lock");
      check_rc(pthread_mutex_unlock(&robust), "main unlock");
    }
    printf("round %d owner=%s\n", r, owner_at(r));
    fflush(stdout);
    if (r == death_round - 1 && argc > 3)
      while (access(argv[3], F_OK) != 0) sleep_ms(10);
  }
  printf("thr_robust done waiter_round=%d dier_round=%d recovered_round=%d\n", waiter_got_it, dier_holds, recovered);
  return 0;
}
