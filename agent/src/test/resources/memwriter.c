/* Test workload for the transfer tests: maps SIZE MiB of anonymous memory, fills 3 of every 4
 * pages with pseudo-random bytes (the 4th is faulted in but stays zero), prints "ready", then keeps rewriting a few
 * random pages every millisecond until killed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 16;
  size_t size = mib << 20, pages = size / 4096;
  uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) { perror("mmap"); return 1; }
  madvise(mem, size, MADV_NOHUGEPAGE);
  uint64_t x = 88172645463325252ULL;
  for (size_t p = 0; p < pages; p++) {
    if (p % 4 == 3) { mem[p * 4096] = 0; continue; } /* present but all zero */
    uint64_t *w = (uint64_t *)(mem + p * 4096);
    for (int i = 0; i < 512; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; w[i] = x; }
  }
  printf("ready %p\n", (void *)mem);
  fflush(stdout);
  for (;;) {
    for (int k = 0; k < 8; k++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      size_t p = (x % (pages / 4)) * 4; /* only the filled pages: the zero ones stay zero */
      mem[p * 4096 + (x >> 40) % 4096] = (uint8_t)x;
    }
    usleep(1000);
  }
}
