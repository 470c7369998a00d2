// Waits in sigsuspend() with SIGUSR1 blocked outside it: after a checkpoint inside sigsuspend, the process must
// still take SIGUSR1 there, and find SIGUSR1 blocked again once sigsuspend returns (the real mask, not the
// temporary one). Prints "waiting", then "handled" and "blocked after: 1".
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_usr1(int s) { (void)s; got = 1; }

int main(void) {
  struct sigaction a = {0};
  a.sa_handler = on_usr1;
  sigaction(SIGUSR1, &a, NULL);
  sigset_t block, wait_mask, now;
  sigemptyset(&block); sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, NULL);
  sigemptyset(&wait_mask);
  printf("waiting\n");
  fflush(stdout);
  while (!got) sigsuspend(&wait_mask);
  sigprocmask(SIG_BLOCK, NULL, &now);
  printf("handled\nblocked after: %d\n", sigismember(&now, SIGUSR1));
  return 0;
}
