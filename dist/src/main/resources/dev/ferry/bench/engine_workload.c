/* engine_workload: the benchmark's target. Maps SIZE bytes of private anonymous memory (no THP
 * unless "thp" is given), fills every page with non-zero data except every 16th page (about 6 %
 * zero pages, typical of anonymous memory), prints "ready <hex address> <bytes>" and waits for
 * stdin to close. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t size = argc > 1 ? strtoull(argv[1], NULL, 10) : (1UL << 30);
  int thp = argc > 2 && strcmp(argv[2], "thp") == 0;
  uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) { perror("mmap"); return 1; }
  madvise(m, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  for (size_t p = 0; p < size / 4096; p++) {
    uint64_t *w = (uint64_t *)(m + p * 4096);
    if (p % 16 == 15) { w[0] = 0; continue; } /* touched, stays zero */
    for (int k = 0; k < 512; k++) w[k] = (p << 20) ^ (uint64_t)k ^ 0x5bd1e995u;
  }
  printf("ready %lx %zu\n", (unsigned long)m, size);
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {}
  return 0;
}
