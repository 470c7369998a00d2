// Holds a periodic ITIMER_REAL in the state between expiry and re-arming: SIGALRM blocked and pending, which the
// kernel reports as 0 time left (it re-arms the timer only when the signal is dequeued). After "ready" and a line on
// stdin it unblocks SIGALRM and counts TICKS more expiries; a timer lost in a checkpoint would hang it here.
// usage: duetimer [TICKS=5]
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t alarms;
static void on_alarm(int signo) { (void)signo; alarms++; }

int main(int argc, char **argv) {
  int ticks = argc > 1 ? atoi(argv[1]) : 5;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_alarm;
  sigaction(SIGALRM, &action, NULL);
  sigset_t alrm, none;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  sigemptyset(&none);
  sigprocmask(SIG_BLOCK, &alrm, NULL);

  struct itimerval timer = { { 0, 20000 }, { 0, 20000 } };
  setitimer(ITIMER_REAL, &timer, NULL);
  struct timespec wait = { 0, 100 * 1000 * 1000 };
  nanosleep(&wait, NULL);  // the timer fires once; its SIGALRM stays pending, the timer waits to be re-armed
  sigset_t pending;
  sigpending(&pending);
  struct itimerval left;
  getitimer(ITIMER_REAL, &left);
  printf("ready pending=%d left=%ld\n", sigismember(&pending, SIGALRM), (long)left.it_value.tv_usec + left.it_value.tv_sec);
  fflush(stdout);

  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 2;
  while (alarms < ticks) sigsuspend(&none);
  printf("ticks %d\n", (int)alarms);
  return 0;
}
