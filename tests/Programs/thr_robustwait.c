// A thread blocked in an untimed lock of a robust mutex the main thread holds, until told: the main thread prints
// "main <PID> holds it", then waits for SIGUSR1, unlocks, and joins the waiter, which takes the mutex, unlocks it and
// prints "waiter got it". glibc's lock keeps the waiter's id from its start: restored under another id, the waiter
// would take the mutex in its old id's name and its unlock would fail (EPERM), which this program reports as FAIL.
// usage: thr_robustwait
#include "thr_common.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t robust;

static void *waiter(void *unused) {
  (void)unused;
  check_rc(pthread_mutex_lock(&robust), "waiter lock");
  check_rc(pthread_mutex_unlock(&robust), "waiter unlock");
  printf("waiter got it\n");
  fflush(stdout);
  return NULL;
}

int main(void) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  check_rc(pthread_sigmask(SIG_BLOCK, &usr1, NULL), "sigmask");  // before the thread: neither takes it but sigwait
  pthread_mutexattr_t attributes;
  check_rc(pthread_mutexattr_init(&attributes), "mutexattr_init");
  check_rc(pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST), "setrobust");
  check_rc(pthread_mutex_init(&robust, &attributes), "mutex_init");
  check_rc(pthread_mutex_lock(&robust), "main lock");
  pthread_t thread;
  check_rc(pthread_create(&thread, NULL, waiter, NULL), "pthread_create");
  printf("main %d holds it\n", (int)syscall(SYS_gettid));
  fflush(stdout);
  int taken;
  if (sigwait(&usr1, &taken) != 0) fail("sigwait");
  check_rc(pthread_mutex_unlock(&robust), "main unlock");
  check_rc(pthread_join(thread, NULL), "join");
  printf("thr_robustwait done\n");
  return 0;
}
