// Captures every frame seen on one network interface (an AF_PACKET socket, as tcpdump would, without libpcap) and
// appends each to a file as a 4-byte little-endian length and the frame's bytes, until SIGTERM/SIGINT or SECONDS
// have passed. Tests search the capture of a lab's
// bridge for what must never cross it in clear (process memory, load figures).
// Prints "listening" once the socket is bound, so a test can start its traffic after that line.
// usage: sniff IFACE SECONDS OUTFILE
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: sniff IFACE SECONDS OUTFILE\n"); return 2; }
  unsigned index = if_nametoindex(argv[1]);
  if (index == 0) { fprintf(stderr, "sniff: no interface %s: %s\n", argv[1], strerror(errno)); return 1; }
  double until = now() + atof(argv[2]);
  FILE *out = fopen(argv[3], "wb");
  if (out == NULL) { fprintf(stderr, "sniff: %s: %s\n", argv[3], strerror(errno)); return 1; }
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) { perror("sniff: socket(AF_PACKET)"); return 1; }
  struct sockaddr_ll where = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)index };
  if (bind(fd, (struct sockaddr *)&where, sizeof where) != 0) { perror("sniff: bind"); return 1; }
  // Promiscuous, as tcpdump makes it: a bridge passes up to its own device only what is addressed to the host,
  // unless the device is promiscuous; frames forwarded from one port to another are then seen too.
  struct packet_mreq promisc = { .mr_ifindex = (int)index, .mr_type = PACKET_MR_PROMISC };
  if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof promisc) != 0) { perror("sniff: PACKET_MR_PROMISC"); return 1; }
  // A burst of migration traffic must not be dropped: SO_RCVBUF is capped by net.core.rmem_max, the FORCE form
  // (root) is not.
  int big = 64 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  printf("listening\n");
  fflush(stdout);
  static unsigned char frame[65536];
  long frames = 0, bytes = 0;
  while (!stop && now() < until) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = recv(fd, frame, sizeof frame, MSG_DONTWAIT);
    if (n <= 0) continue;
    uint32_t length = (uint32_t)n;  // x86_64: little-endian already
    if (fwrite(&length, sizeof length, 1, out) != 1 || fwrite(frame, 1, (size_t)n, out) != (size_t)n) { perror("sniff: write"); return 1; }
    frames++;
    bytes += n;
  }
  fclose(out);
  printf("captured %ld frames, %ld bytes\n", frames, bytes);
  return 0;
}
