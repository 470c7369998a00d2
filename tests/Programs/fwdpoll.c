// fwdpoll PORT: readiness of a TCP connection (forwarded once the process has moved) mixed with a local pipe, for
// issue #15's poll/select/epoll. Connects to 127.0.0.1:PORT (an upper-casing echo server that first sends "go\n"
// when told to), waits for "go" in poll, then checks, printing one line each: the placeholder shows nothing once
// the data is read, a timeout holds, a signal interrupts (EINTR), a local pipe is seen alone, select, pselect6,
// epoll (level- and edge-triggered), POLLOUT, dup/dup2/F_DUPFD of the socket, ioctl(FIONREAD), and end of file after
// shutdown. "latency N" is the mean microseconds of a one-byte round trip waited for with poll (not compared).
// Exits 1 at the first failure.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void fail(const char *what) {
    printf("FAIL %s (errno %d)\n", what, errno);
    fflush(stdout);
    exit(1);
}

static void check(int ok, const char *what) {
    if (!ok) fail(what);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void on_alarm(int sig) { (void)sig; }

// Reads exactly n bytes of the echo (blocking) into buf.
static void read_exactly(int fd, char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) fail("read of the echo");
        got += (size_t)r;
    }
}

static int readable_now(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void echo_check(int writer, int reader, const char *word, const char *upper) {
    char buf[64];
    size_t n = strlen(word);
    check(write(writer, word, n) == (ssize_t)n, "write of a word");
    read_exactly(reader, buf, n);
    check(memcmp(buf, upper, n) == 0, "the echo is the word upper-cased");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fwdpoll PORT\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    check(connect(s, (struct sockaddr *)&a, sizeof a) == 0, "connect");
    int pipefd[2];
    check(pipe(pipefd) == 0, "pipe");
    printf("connected\n");
    fflush(stdout);

    // Moved while blocked here: the server sends "go" only after the move.
    struct pollfd fds[2] = {{s, POLLIN, 0}, {pipefd[0], POLLIN, 0}};
    check(poll(fds, 2, -1) == 1 && (fds[0].revents & POLLIN) && fds[1].revents == 0, "poll wakes for the socket alone");
    char buf[4096];
    read_exactly(s, buf, 3);
    check(memcmp(buf, "go\n", 3) == 0, "go");
    printf("go\n");
    check(!readable_now(s), "nothing readable once the data is read");
    printf("drained ok\n");

    double t0 = now_ms();
    check(poll(fds, 2, 300) == 0, "poll times out");
    check(now_ms() - t0 >= 290, "the timeout holds");
    printf("timeout ok\n");

    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);  // no SA_RESTART: EINTR
    struct itimerval it = {{0, 0}, {0, 200000}};
    setitimer(ITIMER_REAL, &it, NULL);
    check(poll(fds, 2, 5000) == -1 && errno == EINTR, "a signal interrupts poll with EINTR");
    setitimer(ITIMER_REAL, &it, NULL);
    struct epoll_event ev;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    check(ep >= 0, "epoll_create1");
    ev.events = EPOLLIN;
    ev.data.fd = s;
    check(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0, "epoll_ctl of the socket");
    ev.data.fd = pipefd[0];
    check(epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &ev) == 0, "epoll_ctl of the pipe");
    check(epoll_wait(ep, &ev, 1, 5000) == -1 && errno == EINTR, "a signal interrupts epoll_wait with EINTR");
    printf("eintr ok\n");

    check(write(pipefd[1], "x", 1) == 1, "write to the local pipe");
    check(poll(fds, 2, 1000) == 1 && fds[1].revents == POLLIN && fds[0].revents == 0, "the local pipe alone is readable");
    check(read(pipefd[0], buf, 1) == 1, "read of the local pipe");
    printf("local ok\n");

    check(write(s, "select\n", 7) == 7, "write");
    fd_set r;
    FD_ZERO(&r);
    FD_SET(s, &r);
    FD_SET(pipefd[0], &r);
    struct timeval tv = {5, 0};
    check(select((s > pipefd[0] ? s : pipefd[0]) + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(s, &r), "select sees the socket");
    read_exactly(s, buf, 7);
    check(memcmp(buf, "SELECT\n", 7) == 0, "select's echo");
    FD_ZERO(&r);
    FD_SET(s, &r);
    struct timespec ts = {0, 100000000};
    check(pselect(s + 1, &r, NULL, NULL, &ts, NULL) == 0, "pselect times out once it is read");
    printf("select ok\n");

    check(write(s, "epoll\n", 6) == 6, "write");
    check(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.fd == s, "epoll_wait sees the socket");
    read_exactly(s, buf, 6);
    check(memcmp(buf, "EPOLL\n", 6) == 0, "epoll's echo");
    check(epoll_wait(ep, &ev, 1, 0) == 0, "level-triggered epoll has nothing once it is read");
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = s;
    check(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) == 0, "epoll_ctl EPOLLET");
    check(write(s, "edge\n", 5) == 5, "write");
    check(epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.fd == s, "edge-triggered epoll sees the socket");
    read_exactly(s, buf, 5);
    check(epoll_wait(ep, &ev, 1, 100) == 0, "edge-triggered epoll has no second edge");
    printf("epoll ok\n");

    struct pollfd out = {s, POLLOUT, 0};
    check(poll(&out, 1, 1000) == 1 && (out.revents & POLLOUT), "the socket is writable");
    printf("pollout ok\n");

    int d = dup(s);
    check(d >= 0, "dup");
    echo_check(d, s, "dup\n", "DUP\n");
    int d2 = fcntl(s, F_DUPFD_CLOEXEC, 10);
    check(d2 >= 10, "fcntl(F_DUPFD_CLOEXEC)");
    echo_check(s, d2, "dupfd\n", "DUPFD\n");
    check(dup2(s, d) == d, "dup2 onto the dup");
    echo_check(d, d2, "dup2\n", "DUP2\n");
    check(close(d) == 0 && close(d2) == 0, "close of the duplicates");
    echo_check(s, s, "after\n", "AFTER\n");
    printf("dup ok\n");

    check(write(s, "fionread\n", 9) == 9, "write");
    struct pollfd one = {s, POLLIN, 0};
    check(poll(&one, 1, 5000) == 1, "poll for the echo");
    int waiting = 0;
    for (int i = 0; i < 100 && waiting < 9; i++) {
        check(ioctl(s, FIONREAD, &waiting) == 0, "ioctl(FIONREAD)");
        if (waiting < 9) usleep(10000);
    }
    check(waiting == 9, "FIONREAD counts the echo");
    read_exactly(s, buf, 9);
    int on = 1;
    check(ioctl(s, FIONBIO, &on) == 0, "ioctl(FIONBIO)");
    check(read(s, buf, 1) == -1 && errno == EAGAIN, "non-blocking after FIONBIO");
    on = 0;
    check(ioctl(s, FIONBIO, &on) == 0, "ioctl(FIONBIO) off");
    printf("ioctl ok\n");

    const int rounds = 200;
    t0 = now_ms();
    for (int i = 0; i < rounds; i++) {
        check(write(s, "p", 1) == 1, "ping");
        check(poll(&one, 1, 5000) == 1, "poll for the pong");
        check(read(s, buf, 1) == 1 && buf[0] == 'P', "pong");
    }
    printf("latency %.1f\n", (now_ms() - t0) * 1000 / rounds);

    check(shutdown(s, SHUT_WR) == 0, "shutdown");
    struct pollfd end = {s, POLLIN | POLLRDHUP, 0};
    check(poll(&end, 1, 5000) == 1 && (end.revents & (POLLIN | POLLRDHUP)), "end of file is readable");
    check(read(s, buf, sizeof buf) == 0, "end of file");
    printf("eof ok\n");
    close(s);
    return 0;
}
