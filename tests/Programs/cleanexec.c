// Test launcher, not a target: closes every descriptor above 2 and execs its arguments (same PID). A test runner
// can leak descriptors without close-on-exec (pipes, /dev/null) into its children, and those would make any target
// unmovable (only fds 0-2 may be pipes or devices), so tests start their targets through this.
// usage: cleanexec PROGRAM [ARGS...]
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: cleanexec PROGRAM [ARGS...]\n"); return 2; }
  if (close_range(3, ~0U, 0) != 0) { perror("close_range"); return 127; }
  execvp(argv[1], argv + 1);
  perror(argv[1]);
  return 127;
}
