// Changes into DIR, sets umask 027, and during the run creates files and directories by relative path, printing the
// modes they got. After a restore the cwd and umask must be the saved ones, or files land elsewhere or with other modes.
// The absolute path is never printed, so runs in different directories print the same.
// usage: cwdumask DIR [COUNT=30] [PAUSE_MS=50]
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: cwdumask DIR [COUNT] [PAUSE_MS]\n"); return 2; }
  int count = argc > 2 ? atoi(argv[2]) : 30;
  long pause_ms = argc > 3 ? atol(argv[3]) : 50;
  if (chdir(argv[1]) != 0) { perror(argv[1]); return 1; }
  mode_t previous = umask(027);
  (void)previous;  // the inherited umask differs between callers; never printed
  struct timespec pause = { pause_ms / 1000, (pause_ms % 1000) * 1000000L };
  for (int i = 0; i < count; i++) {
    char name[32];
    struct stat st;
    if (i % 5 == 4) {
      snprintf(name, sizeof name, "dir%02d", i);
      if (mkdir(name, 0777) != 0) { perror(name); return 1; }
    } else {
      snprintf(name, sizeof name, "file%02d", i);
      int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, i % 2 ? 0666 : 0755);
      if (fd < 0) { perror(name); return 1; }
      char content[64];
      int n = snprintf(content, sizeof content, "entry %d\n", i);
      if (write(fd, content, (size_t)n) != n) { perror("write"); return 1; }
      close(fd);
    }
    if (stat(name, &st) != 0) { perror(name); return 1; }
    mode_t mask = umask(027);
    printf("%s mode=%04o umask=%03o\n", name, (unsigned)(st.st_mode & 07777), (unsigned)mask);
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  printf("cwdumask done entries=%d\n", count);
  return 0;
}
