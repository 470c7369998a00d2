// A parent that leaves its exited child unreaped until told: the child waits for SIGUSR1 and exits with CODE; the
// parent waits for SIGUSR1 too and only then reaps it, printing what its wait returned. A tree checkpoint taken while
// the child is a zombie must give the restored parent the same pid and status.
// usage: unreaped [CODE=7]   prints "child PID" at once, "reaped PID exited CODE" (or "killed by SIG") when told.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

// SIGUSR1 is blocked before the fork (so neither process can miss it) and taken by sigwait.
static void await_usr1(void) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  int taken;
  if (sigwait(&usr1, &taken) != 0) _exit(90);
}

int main(int argc, char **argv) {
  int code = argc > 1 ? atoi(argv[1]) : 7;
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &usr1, NULL) != 0) return 91;
  pid_t child = fork();
  if (child < 0) return 92;
  if (child == 0) {
    await_usr1();
    _exit(code);
  }
  printf("child %d\n", (int)child);
  fflush(stdout);
  await_usr1();
  int status;
  pid_t got = waitpid(-1, &status, 0);
  if (got < 0) {
    perror("waitpid");
    return 93;
  }
  if (WIFEXITED(status)) printf("reaped %d exited %d\n", (int)got, WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) printf("reaped %d killed by %d\n", (int)got, WTERMSIG(status));
  else printf("reaped %d status %#x\n", (int)got, status);
  fflush(stdout);
  return 0;
}
