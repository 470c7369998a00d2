/* Grows to SIZE MiB at RATE MiB/s (each page written with a value of its own), holds it for HOLD seconds, then checks
 * every page and prints "ok SIZE MiB" (exit 0) or where it differs (exit 3). The ushering test target: a process that
 * needs more memory as it goes, as a simulation filling its grid does. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Sleeps until the monotonic clock reads DUE, not at all if it already does. The time left comes from one reading
 * of the clock: with two (one to compare, one to subtract) a loaded machine could pass DUE in between, the negative
 * time that gave made nanosleep fail with EINVAL, and a loop that retried every failure spun in the kernel for good
 * (a job that never ended, UsheringLabTests). Only an interruption is retried, with the time still left. */
static void sleep_until(double due)
{
    double left = due - now();
    if (left <= 0) return;
    struct timespec t = {(time_t)left, (long)((left - (time_t)left) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: memgrow SIZE_MIB RATE_MIB_PER_S HOLD_S\n");
        return 2;
    }
    long size = atol(argv[1]), rate = atol(argv[2]);
    double hold = atof(argv[3]);
    if (size <= 0 || rate <= 0) return 2;
    const long mib = 1 << 20, page = 4096;
    uint64_t *memory = mmap(NULL, size * mib, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) { perror("mmap"); return 1; }
    double start = now();
    for (long m = 0; m < size; m++) {
        for (long off = 0; off < mib; off += page)
            memory[(m * mib + off) / 8] = (uint64_t)(m * mib + off) * 2654435761u + 1;
        sleep_until(start + (double)(m + 1) / rate);
    }
    sleep_until(now() + hold);
    for (long m = 0; m < size; m++)
        for (long off = 0; off < mib; off += page)
            if (memory[(m * mib + off) / 8] != (uint64_t)(m * mib + off) * 2654435761u + 1) {
                printf("differs at MiB %ld offset %ld\n", m, off);
                return 3;
            }
    printf("ok %ld MiB\n", size);
    return 0;
}
