// Limits itself as FLAGS says (comma-separated), prints "ready", then each round whether two harmless calls its
// seccomp filters may deny are denied. A restore must give it back every limit, never fewer.
//   nnp        prctl(PR_SET_NO_NEW_PRIVS)
//   nobounding drops its whole bounding set (first: dropcaps cannot follow it)
//   dropcaps   permitted {CHOWN, KILL, NET_BIND_SERVICE}, effective {CHOWN, KILL}, inheritable and ambient {KILL},
//              securebits NOROOT | NO_CAP_AMBIENT_RAISE (the ambient set raised before the bit forbids it)
//   nodump     prctl(PR_SET_DUMPABLE, 0)
//   seccomp    two filters: getppid fails with EPERM, getpgid with EACCES
//   thread     a second thread that drops CAP_CHOWN from its own effective set (credentials are per thread)
// usage: restricted FLAGS [COUNT=40] [PAUSE_MS=50]
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BIT(c) (1u << (c))

static int capset_raw(unsigned eff, unsigned prm, unsigned inh) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2] = { { eff, prm, inh }, { 0, 0, 0 } };
  return (int)syscall(SYS_capset, &h, d);
}

static int deny(int nr, int error) {
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)error),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { sizeof f / sizeof f[0], f };
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void *dropper(void *arg) {
  (void)arg;
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) { perror("capget"); exit(1); }
  if (capset_raw(d[0].effective & ~BIT(CAP_CHOWN), d[0].permitted, d[0].inheritable) != 0) { perror("thread capset"); exit(1); }
  for (;;) pause();
  return NULL;
}

static int has(const char *flags, const char *flag) {
  size_t n = strlen(flag);
  for (const char *p = flags; (p = strstr(p, flag)) != NULL; p += n)
    if ((p == flags || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: restricted FLAGS [COUNT] [PAUSE_MS]\n"); return 2; }
  const char *flags = argv[1];
  int count = argc > 2 ? atoi(argv[2]) : 40;
  long pause_ms = argc > 3 ? atol(argv[3]) : 50;
  if (has(flags, "nobounding"))
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
      if (prctl(PR_CAPBSET_DROP, cap) != 0) { perror("PR_CAPBSET_DROP"); return 1; }
  if (has(flags, "dropcaps")) {
    unsigned prm = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SETPCAP);
    if (capset_raw(prm, prm, BIT(CAP_KILL)) != 0) { perror("capset"); return 1; }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) != 0) { perror("ambient"); return 1; }
    if (prctl(PR_SET_SECUREBITS, (1 << 0) | (1 << 6)) != 0) { perror("securebits"); return 1; }
    prm &= ~BIT(CAP_SETPCAP);
    if (capset_raw(BIT(CAP_CHOWN) | BIT(CAP_KILL), prm, BIT(CAP_KILL)) != 0) { perror("capset"); return 1; }
  }
  if (has(flags, "nnp") && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("no_new_privs"); return 1; }
  if (has(flags, "nodump") && prctl(PR_SET_DUMPABLE, 0) != 0) { perror("dumpable"); return 1; }
  if (has(flags, "seccomp") && (deny(SYS_getppid, EPERM) != 0 || deny(SYS_getpgid, EACCES) != 0)) { perror("seccomp"); return 1; }
  pthread_t thread;
  if (has(flags, "thread") && pthread_create(&thread, NULL, dropper, NULL) != 0) { perror("pthread_create"); return 1; }
  printf("ready\n");
  fflush(stdout);
  struct timespec pause = { pause_ms / 1000, (pause_ms % 1000) * 1000000L };
  for (int i = 0; i < count; i++) {
    errno = 0;
    long ppid = syscall(SYS_getppid);
    int ppid_errno = errno;
    errno = 0;
    long pgid = syscall(SYS_getpgid, 0);
    int pgid_errno = errno;
    printf("round %d getppid %s getpgid %s\n", i, ppid < 0 ? strerror(ppid_errno) : "allowed", pgid < 0 ? strerror(pgid_errno) : "allowed");
    fflush(stdout);
    nanosleep(&pause, NULL);
  }
  printf("restricted done\n");
  return 0;
}
