// Post-copy's test program: maps MB megabytes, fills each page from its index, prints "ready <sum>", then runs the
// commands it reads from stdin into a buffer inside that memory (so the read(2) itself may meet a missing page):
//   sum   walks the pages in a random order and prints "sum <found> <expected>" (expected: from the fill, with the
//         dropped pages as zeros; the two must agree)
//   fork  a child walks and prints "child <found> <expected>" and exits; the parent reaps it and prints "reaped <status>"
//   move  mremap's the memory to another address and prints "moved"
//   drop  discards the first quarter (MADV_DONTNEED: zero pages from now on) and prints "dropped"
//   quit  exits 0
// usage: lazywalk [MB=32]
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
static unsigned char *memory;
static size_t pages, dropped;
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static void fill_page(uint64_t *words, size_t page) {
  for (size_t w = 0; w < PAGE / 8; w++) words[w] = mix(page * (PAGE / 8) + w);
}

static uint64_t hash_page(const uint64_t *words, size_t page) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t w = 0; w < PAGE / 8; w++) h = (h ^ words[w]) * 1099511628211ULL;
  return mix(h + page);
}

// The line buffer lives in the middle page; its page's hash is left out (commands overwrite it).
static size_t line_page(void) { return pages / 2; }

static void walk(const char *label) {
  size_t *order = malloc(pages * sizeof *order);
  if (!order) { perror("malloc"); exit(1); }
  for (size_t i = 0; i < pages; i++) order[i] = i;
  for (size_t i = pages - 1; i > 0; i--) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    size_t j = rng % (i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  uint64_t found = 0, expected = 0, buffer[PAGE / 8];
  for (size_t k = 0; k < pages; k++) {
    size_t i = order[k];
    if (i == line_page()) continue;
    found += hash_page((const uint64_t *)(memory + i * PAGE), i);
    if (i < dropped) memset(buffer, 0, sizeof buffer);
    else fill_page(buffer, i);
    expected += hash_page(buffer, i);
  }
  free(order);
  dprintf(1, "%s %016llx %016llx\n", label, (unsigned long long)found, (unsigned long long)expected);
}

int main(int argc, char **argv) {
  size_t size = (size_t)(argc > 1 ? atol(argv[1]) : 32) << 20;
  pages = size / PAGE;
  memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) { perror("mmap"); return 1; }
  for (size_t i = 0; i < pages; i++) fill_page((uint64_t *)(memory + i * PAGE), i);
  walk("ready");
  size_t used = 0;
  for (;;) {
    char *line = (char *)memory + line_page() * PAGE;
    char *end = memchr(line, '\n', used);
    if (!end) {
      ssize_t got = read(0, line + used, PAGE - used - 1);
      if (got <= 0) return got == 0 ? 0 : 1;
      used += (size_t)got;
      continue;
    }
    *end = 0;
    size_t at = (size_t)(end - line);
    if (strcmp(line, "sum") == 0) walk("sum");
    else if (strcmp(line, "fork") == 0) {
      pid_t child = fork();
      if (child < 0) { perror("fork"); return 1; }
      if (child == 0) { walk("child"); _exit(0); }
      int status;
      waitpid(child, &status, 0);
      dprintf(1, "reaped %d\n", status);
    } else if (strcmp(line, "move") == 0) {
      void *place = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      void *moved = mremap(memory, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, place);
      if (place == MAP_FAILED || moved == MAP_FAILED) { perror("mremap"); return 1; }
      memory = moved;
      dprintf(1, "moved\n");
    } else if (strcmp(line, "drop") == 0) {
      dropped = pages / 4;
      if (madvise(memory, dropped * PAGE, MADV_DONTNEED) != 0) { perror("madvise"); return 1; }
      dprintf(1, "dropped\n");
    } else if (strcmp(line, "quit") == 0) return 0;
    else dprintf(1, "unknown %s\n", line);
    line = (char *)memory + line_page() * PAGE;
    size_t rest = used - at - 1;
    memmove(line, line + at + 1, rest);
    used = rest;
  }
}
