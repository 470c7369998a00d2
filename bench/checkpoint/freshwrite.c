// bench/checkpoint/freshwrite.c: the floor of a restore's page phase on its own, in C, with nothing of omd's. Each
// repetition maps MIB MiB of fresh anonymous memory, writes all of it (1 MiB memcpy at a time, as a raw write or a
// restore fills pages), and unmaps it, after waiting GAP ms; it prints the time of each write and how much free memory
// the kernel reported to the host meanwhile (virtio-balloon free page reporting, /sys/module/page_reporting: such a
// page costs the host a fault when it is touched again). The spread of these times is the machine's, not the engine's:
// a restore ratio measured against one such write inherits it twice.
// usage: cc -O2 -o freshwrite bench/checkpoint/freshwrite.c && chrt -f 1 ./freshwrite MIB REPS GAP_MS...
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static long reported_kib(void)
{
    FILE *f = fopen("/sys/module/page_reporting/parameters/reported_kib", "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: freshwrite MIB REPS GAP_MS...\n");
        return 2;
    }
    size_t len = (size_t)atol(argv[1]) << 20;
    int reps = atoi(argv[2]);
    static char src[1 << 20];
    memset(src, 7, sizeof src);
    long unmapped = reported_kib();
    for (int r = 0; r < reps; r++)
        for (int k = 3; k < argc; k++) {
            int gap = atoi(argv[k]);
            usleep((useconds_t)gap * 1000);
            long start = reported_kib();
            double t0 = now();
            char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                perror("mmap");
                return 1;
            }
            for (size_t o = 0; o < len; o += sizeof src) memcpy(p + o, src, sizeof src);
            double t1 = now();
            long end = reported_kib();
            munmap(p, len);
            printf("gap %5d ms: write %8.1f ms; reported to the host: after the last unmap %6ld MiB, during the write %6ld MiB\n",
                   gap, (t1 - t0) * 1e3, (start - unmapped) / 1024, (end - start) / 1024);
            unmapped = reported_kib();
            fflush(stdout);
        }
    return 0;
}
