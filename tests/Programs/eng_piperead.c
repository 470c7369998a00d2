// Echoes stdin lines numbered, with a running checksum: blocks in read(0) on a pipe between lines.
#include <stdio.h>

int main(void) {
  char line[512];
  unsigned long sum = 5381;
  int n = 0;
  while (fgets(line, sizeof line, stdin)) {
    for (char *c = line; *c; c++) sum = sum * 33 + (unsigned char)*c;
    printf("%d %016lx %s", ++n, sum, line);
    fflush(stdout);
  }
  printf("done %d\n", n);
  return 0;
}
