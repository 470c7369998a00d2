// A parent whose children stay where they were born while it may be moved away: it forks four children, says
// "ready" with their PIDs, waits for MARKER to exist (the test moves it meanwhile), then looks at its parent, checks
// one child still runs (WNOHANG), kills it with SIGTERM, reaps every child (waitpid, and waitid for one) and prints
// each status, that no child is left (ECHILD), and whether SIGCHLD came after the marker.
// Children: 0 sleeps 1 s and exits 3; 1 waits for a signal; 2 exits 7 at once; 3 spins SPIN seconds and exits 5.
// usage: parentaway MARKER [SPIN=4]
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t sigchld;

static void on_child(int signal) { (void)signal; sigchld++; }

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void report(int i, int status) {
  if (WIFEXITED(status)) printf("child %d exit %d\n", i, WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) printf("child %d signal %d\n", i, WTERMSIG(status));
  else printf("child %d status 0x%x\n", i, status);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: parentaway MARKER [SPIN=4]\n");
    return 2;
  }
  double spin = argc > 2 ? atof(argv[2]) : 4;
  struct sigaction action = { .sa_handler = on_child, .sa_flags = SA_RESTART };
  sigaction(SIGCHLD, &action, NULL);
  pid_t parent = getppid(), child[4];
  for (int i = 0; i < 4; i++) {
    child[i] = fork();
    if (child[i] < 0) return perror("fork"), 1;
    if (child[i] > 0) continue;
    if (i == 0) { sleep(1); _exit(3); }
    if (i == 1) { for (;;) pause(); }
    if (i == 2) _exit(7);
    for (double end = now() + spin; now() < end;) {}
    _exit(5);
  }
  printf("ready %d %d %d %d\n", child[0], child[1], child[2], child[3]);
  fflush(stdout);
  struct timespec tenth = { 0, 100000000L };
  while (access(argv[1], F_OK) != 0) nanosleep(&tenth, NULL);
  sigchld = 0;
  printf("parent %s\n", getppid() == parent ? "same" : "changed");
  int status;
  printf("child 1 %s\n", waitpid(child[1], &status, WNOHANG) == 0 ? "runs" : "does not run");
  if (kill(child[1], SIGTERM) != 0) perror("kill");
  for (int i = 0; i < 4; i++) {
    if (i == 2) {
      siginfo_t info = { 0 };
      if (waitid(P_PID, child[2], &info, WEXITED) != 0) perror("waitid");
      printf("child 2 waitid pid %s code %d status %d\n", info.si_pid == child[2] ? "right" : "wrong", info.si_code, info.si_status);
      continue;
    }
    pid_t got;
    while ((got = waitpid(child[i], &status, 0)) < 0 && errno == EINTR) {}
    if (got != child[i]) printf("child %d: waitpid gave %d (%s)\n", i, got, got < 0 ? "error" : "another");
    else report(i, status);
  }
  printf("after all: %s\n", waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD ? "no child left" : "a child left");
  for (int i = 0; i < 50 && sigchld == 0; i++) nanosleep(&tenth, NULL);
  printf("sigchld %s\n", sigchld > 0 ? "seen" : "not seen");
  return 0;
}
