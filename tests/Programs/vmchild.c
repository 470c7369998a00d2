// Clones a child that shares its memory (CLONE_VM, as vfork does until exec), prints "child PID", and both wait for
// a signal: a parent that cannot leave its child at home when it moves.
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static char stack[65536];

static int child(void *unused) {
  (void)unused;
  for (;;) pause();
  return 0;
}

int main(void) {
  int pid = clone(child, stack + sizeof stack, CLONE_VM | SIGCHLD, NULL);
  if (pid < 0) return perror("clone"), 1;
  printf("child %d\n", pid);
  fflush(stdout);
  for (;;) pause();
}
