// Uses glibc's cached thread id after a restore: pthread_setschedparam(pthread_self()) passes the tid glibc keeps
// in its TCB to sched_setscheduler, which fails with ESRCH (3) if the tid is stale. Prints "ready", waits for a
// line on stdin, then prints "setschedparam: 0" and "cached tid is pid: 1".
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  printf("ready\n");
  fflush(stdout);
  char line[64];
  if (!fgets(line, sizeof line, stdin)) return 2;
  struct sched_param p = { .sched_priority = 0 };
  printf("setschedparam: %d\n", pthread_setschedparam(pthread_self(), SCHED_OTHER, &p));
  printf("cached tid is pid: %d\n", *(int *)((char *)pthread_self() + 0x2d0) == getpid());
  return 0;
}
