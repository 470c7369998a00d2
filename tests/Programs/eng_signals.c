// Signal state that must survive a checkpoint: a SIGUSR1 handler, SIGUSR2 blocked and pending (thread-directed),
// two queued real-time signals with values (process-directed), an armed ITIMER_REAL. Prints "ready", blocks
// reading a line from stdin, then reports what it still has and lets the pending signals in.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1;
static void on_usr1(int s) { (void)s; usr1++; }
static void on_usr2(int s) { (void)s; static const char m[] = "usr2 handled\n"; write(1, m, sizeof m - 1); }
static void on_rt(int s, siginfo_t *i, void *c) {
  (void)s; (void)c;
  char m[32];
  int n = snprintf(m, sizeof m, "rt value %d\n", i->si_value.sival_int);
  write(1, m, n);
}

int main(void) {
  struct sigaction a = {0};
  a.sa_handler = on_usr1; a.sa_flags = SA_RESTART; sigaction(SIGUSR1, &a, NULL);
  a.sa_handler = on_usr2; sigaction(SIGUSR2, &a, NULL);
  a.sa_sigaction = on_rt; a.sa_flags = SA_SIGINFO | SA_RESTART; sigaction(SIGRTMIN + 1, &a, NULL);
  sigset_t block; sigemptyset(&block); sigaddset(&block, SIGUSR2); sigaddset(&block, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &block, NULL);
  raise(SIGUSR2);
  sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = 7 });
  sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = 9 });
  struct itimerval t = { {0, 0}, {100, 0} };
  setitimer(ITIMER_REAL, &t, NULL);
  printf("ready\n");
  fflush(stdout);

  char line[64];
  if (!fgets(line, sizeof line, stdin)) return 2;
  sigset_t now; sigprocmask(SIG_BLOCK, NULL, &now);
  sigset_t pending; sigpending(&pending);
  struct itimerval left; getitimer(ITIMER_REAL, &left);
  printf("usr2 blocked %d, usr2 pending %d, rt pending %d, timer armed %d\n", sigismember(&now, SIGUSR2),
         sigismember(&pending, SIGUSR2), sigismember(&pending, SIGRTMIN + 1), left.it_value.tv_sec > 50);
  kill(getpid(), SIGUSR1);
  printf("usr1 handled %d times\n", (int)usr1);
  fflush(stdout);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  printf("done\n");
  return 0;
}
