// Catches or ignores SIGTSTP (as an editor or a shell does) and prints a tick line every MS milliseconds, with how
// many SIGTSTPs its handler saw: a terminal stop must never stop it, nor kill it.
// usage: stopcatcher catch|ignore [TICKS=40] [MS=50]
//        stopcatcher catch|ignore usr1 [MS]  ticks until SIGUSR1 (as memticker's "usr1"), so that a test ends it once
//                                          it is done with it rather than waiting out a running time
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stops;
static volatile sig_atomic_t stop;

static void on_tstp(int signo) { (void)signo; stops++; }
static void on_usr1(int signo) { (void)signo; stop = 1; }

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "catch") != 0 && strcmp(argv[1], "ignore") != 0)) {
    fprintf(stderr, "usage: stopcatcher catch|ignore [TICKS] [MS]\n");
    return 2;
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = strcmp(argv[1], "catch") == 0 ? on_tstp : SIG_IGN;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGTSTP, &action, NULL) != 0) { perror("sigaction"); return 1; }
  int until_signal = argc > 2 && strcmp(argv[2], "usr1") == 0;
  if (until_signal) {
    struct sigaction usr1;
    memset(&usr1, 0, sizeof usr1);
    usr1.sa_handler = on_usr1;
    usr1.sa_flags = SA_RESTART;
    sigemptyset(&usr1.sa_mask);
    if (sigaction(SIGUSR1, &usr1, NULL) != 0) { perror("sigaction"); return 1; }
  }
  int ticks = until_signal ? -1 : argc > 2 ? atoi(argv[2]) : 40;
  long ms = argc > 3 ? atol(argv[3]) : 50;
  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  for (int i = 0; until_signal ? !stop : i < ticks; i++) {
    nanosleep(&pause, NULL);
    printf("tick %d stops=%d\n", i, (int)stops);
    fflush(stdout);
  }
  return 0;
}
