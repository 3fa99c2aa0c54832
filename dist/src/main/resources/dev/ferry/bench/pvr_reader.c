/* pvr_reader: the physical floors the engine is compared with, over the same memory.
 *   pvr_reader read PID ADDR_HEX LEN REPS [IOV_BYTES]
 *       reads [addr, addr+len) of pid with process_vm_readv, 1 MiB iovecs into a page-aligned
 *       buffer; prints "gbps <value>" per repetition
 *   pvr_reader pagemap PID ADDR_HEX LEN REPS [THREADS]
 *       reads the pagemap entries of [addr, addr+len): one pread, or THREADS threads each with
 *       its own fd reading one contiguous share (cut on 2 MiB of address space) with one pread,
 *       started together (threads created before the clock starts, as the engine's pool is);
 *       prints "ms <value>" */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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

struct share { int fd; char *buf; size_t bytes; off_t pos; int ok; };
static atomic_int go;

static void *read_share(void *arg) {
  struct share *s = arg;
  while (!atomic_load(&go)) {}
  size_t done = 0;
  while (done < s->bytes) {
    ssize_t r = pread(s->fd, s->buf + done, s->bytes - done, s->pos + (off_t)done);
    if (r <= 0) return NULL;
    done += (size_t)r;
  }
  s->ok = 1;
  return NULL;
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
    int threads = argc > 6 ? atoi(argv[6]) : 1;
    if (threads < 1 || threads > 64) { fprintf(stderr, "threads 1..64\n"); return 2; }
    void *buf;
    if (posix_memalign(&buf, 4096, n)) return 1;
    memset(buf, 0, n);
    size_t share = (n / threads + 4095) / 4096 * 4096; /* 4096 bytes of entries = 2 MiB of memory */
    for (int r = 0; r < reps; r++) {
      struct share s[64];
      pthread_t t[64];
      atomic_store(&go, 0);
      for (int i = 0; i < threads; i++) {
        size_t from = (size_t)i * share < n ? (size_t)i * share : n;
        size_t to = i == threads - 1 || (size_t)(i + 1) * share > n ? n : (size_t)(i + 1) * share;
        s[i].fd = open(path, O_RDONLY);
        if (s[i].fd < 0) { perror(path); return 1; }
        s[i].buf = (char *)buf + from; s[i].bytes = to - from; s[i].pos = (off_t)(addr / 4096 * 8 + from); s[i].ok = 0;
        if (i > 0 && pthread_create(&t[i], NULL, read_share, &s[i])) { perror("pthread_create"); return 1; }
      }
      double t0 = now();
      atomic_store(&go, 1);
      read_share(&s[0]);
      for (int i = 1; i < threads; i++) pthread_join(t[i], NULL);
      double ms = (now() - t0) * 1e3;
      for (int i = 0; i < threads; i++) {
        if (!s[i].ok) { fprintf(stderr, "pread of pagemap failed\n"); return 1; }
        close(s[i].fd);
      }
      printf("ms %.3f\n", ms);
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
