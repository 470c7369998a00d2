// A thread made on request, for the test of a thread born while a freeze stops the others. The main thread and a
// midwife thread run; SIGUSR1 makes the midwife create a newborn thread, which waits for SIGUSR2 and then ends; the
// midwife joins it and the program prints "done" and exits 0. The test sends SIGUSR1 at the moment it wants a thread
// to be born (between the freezer's look at the task list and its stop of the midwife) and SIGUSR2 once it is done.
// usage: thr_latecomer
#include "thr_common.h"

#include <pthread.h>
#include <signal.h>

static void wait_for(int signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signal);
  int got;
  check_rc(sigwait(&set, &got), "sigwait");
}

static void *newborn(void *unused) {
  (void)unused;
  wait_for(SIGUSR2);
  return NULL;
}

static void *midwife(void *unused) {
  (void)unused;
  wait_for(SIGUSR1);
  pthread_t thread;
  check_rc(pthread_create(&thread, NULL, newborn, NULL), "pthread_create");
  check_rc(pthread_join(thread, NULL), "pthread_join");
  return NULL;
}

int main(void) {
  // Blocked in every thread (inherited), so each signal goes to the one thread that waits for it.
  sigset_t both;
  sigemptyset(&both);
  sigaddset(&both, SIGUSR1);
  sigaddset(&both, SIGUSR2);
  check_rc(pthread_sigmask(SIG_BLOCK, &both, NULL), "pthread_sigmask");
  pthread_t thread;
  check_rc(pthread_create(&thread, NULL, midwife, NULL), "pthread_create");
  printf("ready\n");
  fflush(stdout);
  check_rc(pthread_join(thread, NULL), "pthread_join");
  printf("done\n");
  fflush(stdout);
  return 0;
}
