/* pagechild: a purpose-built target for the engine tests. It maps a region of N private
 * anonymous pages, fills page i with a known pattern, prints its greeting, then
 * obeys one command per stdin line and answers on stdout (the greeting is
 * "region <hex address> <pages> <pid>"):
 *   w I J K ...   write (increment) byte 8 of those pages            -> "ok"
 *   drop I J K .. madvise(MADV_DONTNEED) those pages (they read as zeros
 *                 from now on)                                        -> "ok"
 *   remap         munmap the region, map it again at the same address,
 *                 fill page i with the pattern of generation 2        -> "ok"
 *   stress SEED   start a thread writing random pages continuously    -> "ok"
 *   stop          stop that thread                                    -> "stopped <writes>"
 *   count         writes of that thread so far                        -> "writes <writes>"
 *   fork          fork a child that writes its own pages and waits    -> "child <pid>"
 *   exit          exit 0
 * With a second argument "thp" the region is 2 MiB aligned and advised MADV_HUGEPAGE instead of
 * MADV_NOHUGEPAGE (transparent huge pages where the kernel grants them).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint8_t *region;
static long pages;
static volatile int running;
static volatile uint64_t writes;
static uint64_t seed;
static pthread_t writer;

static void fill(long generation) {
  for (long i = 0; i < pages; i++) {
    uint64_t *p = (uint64_t *)(region + i * 4096);
    for (int k = 0; k < 512; k++) p[k] = (generation << 48) ^ ((uint64_t)i << 16) ^ (uint64_t)k;
  }
}

static void *stress(void *arg) {
  (void)arg;
  uint64_t x = seed | 1;
  while (running) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    long page = (long)(x % (uint64_t)pages);
    uint64_t *p = (uint64_t *)(region + page * 4096);
    int word = (int)((x >> 32) % 512);
    p[word] = x;
    writes++;
  }
  return NULL;
}

int main(int argc, char **argv) {
  pages = argc > 1 ? atol(argv[1]) : 256;
  int thp = argc > 2 && strcmp(argv[2], "thp") == 0;
  size_t slack = thp ? (2UL << 20) : 0;
  region = mmap(NULL, pages * 4096 + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) { perror("mmap"); return 1; }
  if (thp) region = (uint8_t *)(((uintptr_t)region + slack - 1) & ~(uintptr_t)(slack - 1));
  madvise(region, pages * 4096, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  fill(1);
  printf("region %lx %ld %d\n", (unsigned long)region, pages, (int)getpid());
  fflush(stdout);
  char line[65536];
  while (fgets(line, sizeof line, stdin)) {
    if (line[0] == 'w') {
      char *s = line + 1, *end;
      for (;;) {
        long i = strtol(s, &end, 10);
        if (end == s) break;
        s = end;
        if (i >= 0 && i < pages) region[i * 4096 + 8]++;
      }
      puts("ok");
    } else if (strncmp(line, "drop", 4) == 0) {
      char *s = line + 4, *end;
      for (;;) {
        long i = strtol(s, &end, 10);
        if (end == s) break;
        s = end;
        if (i >= 0 && i < pages && madvise(region + i * 4096, 4096, MADV_DONTNEED) != 0) { perror("madvise"); return 1; }
      }
      puts("ok");
    } else if (strncmp(line, "remap", 5) == 0) {
      munmap(region, pages * 4096);
      uint8_t *again = mmap(region, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (again != region) { perror("remap"); return 1; }
      madvise(region, pages * 4096, MADV_NOHUGEPAGE);
      fill(2);
      puts("ok");
    } else if (strncmp(line, "stress", 6) == 0) {
      seed = strtoull(line + 6, NULL, 10);
      running = 1;
      pthread_create(&writer, NULL, stress, NULL);
      puts("ok");
    } else if (strncmp(line, "stop", 4) == 0) {
      running = 0;
      pthread_join(writer, NULL);
      printf("stopped %llu\n", (unsigned long long)writes);
    } else if (strncmp(line, "count", 5) == 0) {
      printf("writes %llu\n", (unsigned long long)writes);
    } else if (strncmp(line, "fork", 4) == 0) {
      pid_t pid = fork();
      if (pid == 0) {
        fill(3);
        for (;;) pause();
      }
      printf("child %d\n", (int)pid);
    } else if (strncmp(line, "exit", 4) == 0) {
      return 0;
    }
    fflush(stdout);
  }
  return 0;
}
