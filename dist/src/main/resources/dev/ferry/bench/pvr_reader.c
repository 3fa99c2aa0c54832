/* pvr_reader: the physical floors the engine is compared with, over the same memory.
 *   pvr_reader read PID ADDR_HEX LEN REPS [IOV_BYTES]
 *       reads [addr, addr+len) of pid with process_vm_readv, 1 MiB iovecs into a page-aligned
 *       buffer; prints "gbps <value>" per repetition
 *   pvr_reader pagemap PID ADDR_HEX LEN REPS
 *       reads the pagemap entries of [addr, addr+len) in one pread; prints "ms <value>" */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: pvr_reader read|pagemap PID ADDR_HEX LEN REPS [IOV_BYTES]\n"); return 2; }
  pid_t pid = atoi(argv[2]);
  unsigned long addr = strtoul(argv[3], NULL, 16);
  size_t len = strtoull(argv[4], NULL, 10);
  int reps = atoi(argv[5]);
  if (strcmp(argv[1], "pagemap") == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); return 1; }
    size_t n = len / 4096 * 8;
    void *buf;
    if (posix_memalign(&buf, 4096, n)) return 1;
    memset(buf, 0, n);
    for (int r = 0; r < reps; r++) {
      double t0 = now();
      if (pread(fd, buf, n, (off_t)(addr / 4096 * 8)) != (ssize_t)n) { perror("pread"); return 1; }
      printf("ms %.3f\n", (now() - t0) * 1e3);
    }
    return 0;
  }
  size_t iov = argc > 6 ? strtoull(argv[6], NULL, 10) : (1 << 20);
  void *buf;
  if (posix_memalign(&buf, 4096, iov)) return 1;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    size_t done = 0;
    while (done < len) {
      size_t n = len - done < iov ? len - done : iov;
      struct iovec local = { buf, n }, remote = { (void *)(addr + done), n };
      ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
      if (got <= 0) { perror("process_vm_readv"); return 1; }
      done += (size_t)got;
    }
    printf("gbps %.3f\n", len / (now() - t0) / 1e9);
    fflush(stdout);
  }
  return 0;
}
