// Signal state that must survive a checkpoint: handlers installed with and without SA_RESTART, a blocked mask with a
// SIGUSR2 kept pending for most of the run, an ITIMER_REAL interval timer and an alarm(). Every count printed is one
// the program waits for, so the output is the same on every run.
// usage: signals [TICKS=60] [TICK_MS=25]
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, usr1s, usr2s;

static void on_alarm(int signo) { (void)signo; alarms++; }
static void on_usr1(int signo) { (void)signo; usr1s++; }
static void on_usr2(int signo) { (void)signo; usr2s++; }

static void install(int signo, void (*handler)(int), int flags) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  action.sa_flags = flags;
  sigemptyset(&action.sa_mask);
  if (sigaction(signo, &action, NULL) != 0) { perror("sigaction"); exit(1); }
}

static int is_pending(int signo) {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, signo);
}

int main(int argc, char **argv) {
  int ticks = argc > 1 ? atoi(argv[1]) : 60;
  long tick_ms = argc > 2 ? atol(argv[2]) : 25;
  install(SIGALRM, on_alarm, 0);
  install(SIGUSR1, on_usr1, SA_RESTART);
  install(SIGUSR2, on_usr2, SA_RESTART);

  // SIGUSR2 blocked and raised: it stays pending until the very end.
  sigset_t blocked, waiting;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR2);
  sigaddset(&blocked, SIGALRM);
  sigprocmask(SIG_BLOCK, &blocked, &waiting);
  sigdelset(&waiting, SIGALRM);
  raise(SIGUSR2);
  printf("usr2 blocked pending=%d handled=%d\n", is_pending(SIGUSR2), (int)usr2s);
  fflush(stdout);

  struct itimerval timer = { { 0, tick_ms * 1000 }, { 0, tick_ms * 1000 } };
  setitimer(ITIMER_REAL, &timer, NULL);
  for (int wanted = 1; wanted <= ticks; wanted++) {
    while (alarms < wanted) sigsuspend(&waiting);  // SIGALRM only delivered here: no lost wakeups
    if (wanted % 4 == 0) {
      kill(getpid(), SIGUSR1);
      printf("tick %d usr1=%d usr2_pending=%d\n", wanted, (int)usr1s, is_pending(SIGUSR2));
      fflush(stdout);
    }
    alarms = wanted;  // timer overruns collapse into one delivery anyway; count waits, not deliveries
  }
  struct itimerval off = { { 0, 0 }, { 0, 0 } };
  setitimer(ITIMER_REAL, &off, NULL);
  alarms = 0;

  alarm(1);
  while (alarms < 1) sigsuspend(&waiting);
  printf("alarm fired count=%d\n", (int)alarms);
  fflush(stdout);

  sigprocmask(SIG_UNBLOCK, &blocked, NULL);
  printf("signals done usr1=%d usr2=%d pending_after=%d\n", (int)usr1s, (int)usr2s, is_pending(SIGUSR2));
  return 0;
}
