// Reads stdin line by line and prints each line upper-cased with its number and a running hash; blocked in read()
// whenever its writer is idle, so a checkpoint freezes it there. At end of input it prints a summary.
// usage: producer | pipereader
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  char *line = NULL;
  size_t capacity = 0;
  ssize_t length;
  unsigned long number = 0, hash = 5381, bytes = 0;
  while ((length = getline(&line, &capacity, stdin)) > 0) {
    for (ssize_t i = 0; i < length; i++) {
      line[i] = (char)toupper((unsigned char)line[i]);
      hash = hash * 33 + (unsigned char)line[i];
    }
    bytes += (unsigned long)length;
    number++;
    printf("%lu %016lx %s", number, hash, line);
    if (line[length - 1] != '\n') putchar('\n');
    fflush(stdout);
  }
  printf("pipereader done lines=%lu bytes=%lu hash=%016lx\n", number, bytes, hash);
  free(line);
  return 0;
}
