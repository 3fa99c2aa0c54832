/*
 * The reference for TransferBench: the same bytes through the simplest native pipeline.
 *
 *   c-pipeline hold MIB zero|random   maps MIB MiB, touches every page (zeros or random bytes),
 *                                     prints "ready <address>", then sleeps until killed.
 *   c-pipeline copy PID ADDR BYTES    reads BYTES of PID at ADDR with process_vm_readv (1 MiB
 *                                     iovecs into a page-aligned buffer), writes them to a TCP
 *                                     loopback socket; a forked receiver reads them into its own
 *                                     buffer. Prints "bytes=<n> seconds=<s> cpu_s=<c>", c: the
 *                                     CPU time (user + system, getrusage) of both processes
 *                                     during the copy (the sender from the first read to the
 *                                     receiver's exit, the receiver all its life: it only
 *                                     accepts and reads).
 *   c-pipeline disk FILE BYTES        writes BYTES to the new FILE with O_DIRECT in 4 MiB writes
 *                                     from one page-aligned buffer, then fdatasync: what the
 *                                     disk under the destination's store takes at best. Prints
 *                                     "bytes=<n> seconds=<s> cpu_s=<c>".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_seconds(int who) {
  struct rusage u;
  getrusage(who, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static int hold(size_t mib, int random) {
  size_t size = mib << 20;
  uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) { perror("mmap"); return 1; }
  madvise(mem, size, MADV_NOHUGEPAGE);
  uint64_t x = 88172645463325252ULL;
  for (size_t off = 0; off < size; off += 4096) {
    if (!random) { mem[off] = 0; continue; }
    uint64_t *w = (uint64_t *)(mem + off);
    for (int i = 0; i < 512; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; w[i] = x; }
  }
  printf("ready %lx\n", (unsigned long)mem);
  fflush(stdout);
  for (;;) pause();
}

static int copy(pid_t pid, unsigned long addr, size_t bytes) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  if (bind(listener, (struct sockaddr *)&sa, sizeof sa) || listen(listener, 1) ||
      getsockname(listener, (struct sockaddr *)&sa, &len)) { perror("listen"); return 1; }
  pid_t receiver = fork();
  if (receiver == 0) {
    int c = accept(listener, NULL, NULL);
    uint8_t *buf = aligned_alloc(4096, CHUNK);
    size_t got = 0;
    ssize_t n;
    while ((n = read(c, buf, CHUNK)) > 0) got += n;
    _exit(got == bytes ? 0 : 3);
  }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr *)&sa, sizeof sa)) { perror("connect"); return 1; }
  uint8_t *buf = aligned_alloc(4096, CHUNK);
  double start = now();
  double cpu_start = cpu_seconds(RUSAGE_SELF);
  for (size_t off = 0; off < bytes; off += CHUNK) {
    size_t n = bytes - off < CHUNK ? bytes - off : CHUNK;
    struct iovec local = {buf, n}, remote = {(void *)(addr + off), n};
    if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)n) { perror("process_vm_readv"); return 1; }
    for (size_t w = 0; w < n;) {
      ssize_t k = write(s, buf + w, n - w);
      if (k <= 0) { perror("write"); return 1; }
      w += k;
    }
  }
  close(s);
  int status;
  waitpid(receiver, &status, 0);
  double seconds = now() - start;
  double cpu = cpu_seconds(RUSAGE_SELF) - cpu_start + cpu_seconds(RUSAGE_CHILDREN); /* the receiver was waited for */
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "receiver failed\n"); return 1; }
  printf("bytes=%zu seconds=%.6f cpu_s=%.6f\n", bytes, seconds, cpu);
  return 0;
}

#define DISK_CHUNK (4 << 20)

static int disk(const char *file, size_t bytes) {
  int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0600);
  if (fd < 0) { perror("open O_DIRECT"); return 1; }
  uint8_t *buf = aligned_alloc(4096, DISK_CHUNK);
  for (size_t i = 0; i < DISK_CHUNK; i++) buf[i] = (uint8_t)(i * 2654435761u >> 13);
  double start = now();
  double cpu_start = cpu_seconds(RUSAGE_SELF);
  for (size_t off = 0; off < bytes;) {
    size_t n = bytes - off < DISK_CHUNK ? bytes - off : DISK_CHUNK;
    ssize_t k = pwrite(fd, buf, n, off);
    if (k <= 0) { perror("pwrite"); return 1; }
    off += k;
  }
  if (fdatasync(fd)) { perror("fdatasync"); return 1; }
  double seconds = now() - start;
  double cpu = cpu_seconds(RUSAGE_SELF) - cpu_start;
  close(fd);
  unlink(file);
  printf("bytes=%zu seconds=%.6f cpu_s=%.6f\n", bytes, seconds, cpu);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "hold")) return hold(strtoul(argv[2], NULL, 10), !strcmp(argv[3], "random"));
  if (argc == 5 && !strcmp(argv[1], "copy"))
    return copy(atoi(argv[2]), strtoul(argv[3], NULL, 16), strtoull(argv[4], NULL, 10));
  if (argc == 4 && !strcmp(argv[1], "disk")) return disk(argv[2], strtoull(argv[3], NULL, 10));
  fprintf(stderr, "usage: c-pipeline hold MIB zero|random | copy PID HEXADDR BYTES | disk FILE BYTES\n");
  return 2;
}
