// Listens on a TCP socket on 127.0.0.1 (ephemeral port, never printed), connects to itself and echoes a message
// through the connection every tick. A cantmove target: open sockets cannot be moved, so the process must be refused
// untouched and still finish normally.
// usage: tcpclient [TICKS=40] [MS=50]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int ticks = argc > 1 ? atoi(argv[1]) : 40;
  long ms = argc > 2 ? atol(argv[2]) : 50;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4) != 0 ||
      getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
    perror("listen");
    return 1;
  }
  int client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0 || connect(client, (struct sockaddr *)&address, sizeof address) != 0) { perror("connect"); return 1; }
  int server = accept(listener, NULL, NULL);
  if (server < 0) { perror("accept"); return 1; }
  printf("listening and connected on loopback\n");
  fflush(stdout);

  struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
  unsigned long echoed = 0;
  for (int i = 0; i < ticks; i++) {
    char message[32], reply[32];
    int n = snprintf(message, sizeof message, "ping %d", i);
    if (write(client, message, (size_t)n) != n) { perror("write"); return 1; }
    int got = 0;
    while (got < n) {
      ssize_t r = read(server, reply + got, (size_t)(n - got));
      if (r <= 0) { perror("read"); return 1; }
      got += (int)r;
    }
    echoed += (unsigned long)got;
    printf("tick %d echoed=%lu match=%s\n", i, echoed, memcmp(message, reply, (size_t)n) == 0 ? "yes" : "no");
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  close(server);
  close(client);
  close(listener);
  printf("tcpclient done ticks=%d bytes=%lu\n", ticks, echoed);
  return 0;
}
