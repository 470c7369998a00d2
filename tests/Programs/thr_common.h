// Helpers shared by the thr_* targets (multithreaded checkpoint/restore/migration tests). Every check that fails
// prints one "FAIL ..." line and ends the whole process with exit code 1, whichever thread finds it: a restored copy
// that went wrong must not be able to print the same output as an uninterrupted run.
#ifndef THR_COMMON_H
#define THR_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

__attribute__((format(printf, 1, 2), noreturn)) static inline void fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("FAIL ", stdout);
  vprintf(format, args);
  fputc('\n', stdout);
  va_end(args);
  fflush(stdout);
  exit(1);
}

// A pthread call that returns an error number instead of setting errno.
static inline void check_rc(int rc, const char *what) {
  if (rc != 0) fail("%s: %s", what, strerror(rc));
}

// Sleeps the whole interval even if a signal (or a ptrace stop) interrupts it.
static inline void sleep_ms(long ms) {
  struct timespec left = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep(&left, &left) != 0)
    if (errno != EINTR) fail("nanosleep: %s", strerror(errno));
}

// An absolute CLOCK_REALTIME deadline ms from now (what pthread_cond_timedwait and friends take by default).
static inline struct timespec deadline_ms(long ms) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) { t.tv_sec++; t.tv_nsec -= 1000000000L; }
  return t;
}

// FNV-1a step: every thread folds what it saw each round into a running value the main thread prints.
static inline uint64_t mix(uint64_t sum, uint64_t value) { return (sum ^ value) * 1099511628211ULL; }

#define MIX_SEED 1469598103934665603ULL

// The round count and interval every thr_* target takes as its first two arguments.
static inline void parse_rounds(int argc, char **argv, int *rounds, long *ms, int default_rounds, long default_ms) {
  *rounds = argc > 1 ? atoi(argv[1]) : default_rounds;
  *ms = argc > 2 ? atol(argv[2]) : default_ms;
  if (*rounds < 1 || *ms < 0) fail("usage: %s [ROUNDS>=1] [MS>=0]", argv[0]);
}

// HOLD (an optional argument naming a file): after the line of round ROUNDS - HOLD_TAIL the main thread waits, in
// 10 ms sleeps, until that file exists, and prints nothing about it. A test that moves the program away and back
// creates the file once its moves are done, so the program cannot end before them however slow the machine is; its
// reference run names a file that exists, and its output is the same.
#define HOLD_TAIL 5
static inline void hold_after(int round, int rounds, const char *hold) {
  if (!hold || round != rounds - HOLD_TAIL) return;
  while (access(hold, F_OK) != 0) sleep_ms(10);
}

#endif
