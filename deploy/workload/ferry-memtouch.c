/*
 * ferry-memtouch: Ferry's demo and test workload, in the spirit of CRIU's zdtm mem-touch.
 *
 * It allocates N MiB of anonymous memory, fills every page with a pattern derived from
 * (page index, generation), then dirties pages at a configurable rate (pages per second),
 * bumping the page's generation and rewriting it. Everything needed to check the memory lives
 * in the process itself (a generation and a checksum per page, the running total of the
 * checksums and the number of page writes), so after a migration the process can prove that
 * its memory arrived intact:
 *   - every page's content must hash to its recorded checksum, and equal the pattern of its
 *     recorded generation (a stale page carries an older generation's pattern);
 *   - the checksums must add up to the running total;
 *   - the generations must add up to the number of writes (a page AND its bookkeeping entry
 *     both stale still breaks this sum).
 * Every verify interval it appends one line to the output file:
 *   OK counter=<n> writes=<w> pages=<p> mib=<m> pid=<getpid()> t=<epoch ms>
 *   CORRUPT counter=<n> bad_pages=<k> first_bad=<index> expected=<hex> actual=<hex> ...
 * The output file is opened (O_APPEND), written with one write(2) and closed for every line,
 * so no file descriptor of it survives in the process: a CRIU restore on another host does not
 * need the file to exist there, and nothing depends on the pid. stdin/stdout/stderr are pointed
 * at /dev/null once started (no terminal, no pipes to the launcher that CRIU could not dump).
 * The launcher gives it its own session (setsid).
 *
 * --probe-soft-dirty: checks that the running kernel tracks soft-dirty PTEs (bit 55 of a
 * pagemap entry). Exit 0 and "soft-dirty: works" when it does; exit 2 and one line with the
 * reason when not (writing clear_refs "succeeds" silently on kernels without it).
 *
 * Build: gcc -O2 -Wall -o ferry-memtouch ferry-memtouch.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define WORDS (PAGE / sizeof(uint64_t))
#define PM_SOFT_DIRTY (1ULL << 55)

static volatile sig_atomic_t stop_requested;

static void on_term(int sig) { (void)sig; stop_requested = 1; }

/* splitmix64 finaliser: a cheap, well-mixed 64-bit hash */
static inline uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static inline uint64_t pattern_word(uint64_t page, uint64_t gen, uint64_t i) {
    return mix((page << 24) ^ (gen << 44) ^ (gen >> 20) ^ i);
}

static uint64_t page_checksum(const uint64_t *w) {
    uint64_t h = 0x51ed270b27e7a4c1ULL;
    for (size_t i = 0; i < WORDS; i++) h = mix(h ^ w[i]);
    return h;
}

/* the state lives in heap and the big mapping; all of it is migrated with the process */
struct state {
    uint64_t *mem;       /* pages * WORDS words */
    uint64_t pages;
    uint32_t *gen;       /* generation per page */
    uint64_t *sum;       /* checksum per page */
    uint64_t total_sum;  /* running sum of sum[] (mod 2^64) */
    uint64_t writes;     /* page writes done, including the initial fill */
    uint64_t counter;    /* verifications done */
    uint64_t rng;
    const char *out;
};

static void write_page(struct state *s, uint64_t p) {
    uint64_t *w = s->mem + p * WORDS;
    uint32_t g = ++s->gen[p];
    for (size_t i = 0; i < WORDS; i++) w[i] = pattern_word(p, g, i);
    uint64_t c = page_checksum(w);
    s->total_sum += c - s->sum[p];
    s->sum[p] = c;
    s->writes++;
}

static uint64_t now_ms(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void emit(const char *path, const char *line) {
    /* open-write-close per line: no fd of the output survives into a checkpoint */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return; /* nothing sensible to do: stderr is /dev/null by now */
    size_t len = strlen(line);
    ssize_t n = write(fd, line, len);
    (void)n;
    close(fd);
}

static void verify(struct state *s) {
    uint64_t bad = 0, first_bad = UINT64_MAX, expected = 0, actual = 0, sum = 0, gens = 0;
    const char *what = "";
    for (uint64_t p = 0; p < s->pages; p++) {
        const uint64_t *w = s->mem + p * WORDS;
        uint64_t c = page_checksum(w);
        sum += c;
        gens += s->gen[p];
        int page_bad = 0;
        if (c != s->sum[p]) {
            page_bad = 1;
            if (first_bad == UINT64_MAX) { what = "checksum"; expected = s->sum[p]; actual = c; }
        } else if (w[0] != pattern_word(p, s->gen[p], 0) || w[WORDS - 1] != pattern_word(p, s->gen[p], WORDS - 1)) {
            page_bad = 1;
            if (first_bad == UINT64_MAX) { what = "pattern"; expected = pattern_word(p, s->gen[p], 0); actual = w[0]; }
        }
        if (page_bad) { bad++; if (first_bad == UINT64_MAX) first_bad = p; }
    }
    s->counter++;
    char line[512];
    if (bad == 0 && sum == s->total_sum && gens == s->writes) {
        snprintf(line, sizeof line, "OK counter=%" PRIu64 " writes=%" PRIu64 " pages=%" PRIu64
                 " mib=%" PRIu64 " pid=%d t=%" PRIu64 "\n",
                 s->counter, s->writes, s->pages, s->pages * PAGE >> 20, (int)getpid(), now_ms(CLOCK_REALTIME));
    } else if (bad > 0) {
        snprintf(line, sizeof line, "CORRUPT counter=%" PRIu64 " bad_pages=%" PRIu64 " first_bad=%" PRIu64
                 " check=%s expected=%016" PRIx64 " actual=%016" PRIx64 " writes=%" PRIu64 " pid=%d t=%" PRIu64 "\n",
                 s->counter, bad, first_bad, what, expected, actual, s->writes, (int)getpid(), now_ms(CLOCK_REALTIME));
    } else {
        snprintf(line, sizeof line, "CORRUPT counter=%" PRIu64 " bad_pages=0 check=totals sum=%016" PRIx64
                 " expected_sum=%016" PRIx64 " gens=%" PRIu64 " writes=%" PRIu64 " pid=%d t=%" PRIu64 "\n",
                 s->counter, sum, s->total_sum, gens, s->writes, (int)getpid(), now_ms(CLOCK_REALTIME));
    }
    emit(s->out, line);
}

static int fail_probe(const char *reason) {
    struct utsname u;
    uname(&u);
    printf("soft-dirty: missing on kernel %s: %s\n", u.release, reason);
    fflush(stdout);
    return 2;
}

static int read_pagemap(void *addr, uint64_t *entry) {
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    off_t off = (off_t)((uintptr_t)addr / PAGE) * 8;
    ssize_t n = pread(fd, entry, 8, off);
    close(fd);
    return n == 8 ? 0 : -1;
}

static int clear_soft_dirty(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, "4", 1);
    int e = errno;
    close(fd);
    errno = e;
    return n == 1 ? 0 : -1;
}

static int probe_soft_dirty(void) {
    char reason[256];
    volatile char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return fail_probe("mmap failed");
    uint64_t e;
    p[0] = 1;
    if (read_pagemap((void *)p, &e) < 0) {
        snprintf(reason, sizeof reason, "/proc/self/pagemap unreadable (%s)", strerror(errno));
        return fail_probe(reason);
    }
    if (clear_soft_dirty() < 0) {
        snprintf(reason, sizeof reason, "writing 4 to /proc/self/clear_refs failed (%s)", strerror(errno));
        return fail_probe(reason);
    }
    if (read_pagemap((void *)p, &e) < 0) return fail_probe("/proc/self/pagemap unreadable after clear_refs");
    if (e & PM_SOFT_DIRTY) return fail_probe("bit 55 still set after clear_refs 4 (soft-dirty not cleared)");
    p[0] = 2;
    if (read_pagemap((void *)p, &e) < 0) return fail_probe("/proc/self/pagemap unreadable after the second write");
    if (!(e & PM_SOFT_DIRTY))
        return fail_probe("bit 55 not set after writing a page (soft-dirty PTEs, CONFIG_MEM_SOFT_DIRTY, missing)");
    printf("soft-dirty: works\n");
    fflush(stdout);
    return 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: ferry-memtouch --out FILE [--size-mib N] [--rate PAGES_PER_S] [--verify-ms MS] [--keep-stdio]\n"
            "       ferry-memtouch --probe-soft-dirty\n"
            "  --size-mib N     memory to allocate and fill (default 64)\n"
            "  --rate R         pages dirtied per second (default 1000; 0 = none)\n"
            "  --verify-ms MS   verify all memory and append a line every MS ms (default 1000)\n"
            "  --out FILE       append OK/CORRUPT lines here (required)\n"
            "  --keep-stdio     do not point stdin/stdout/stderr at /dev/null\n");
}

static void detach_stdio(void) {
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) return;
    dup2(fd, 0); dup2(fd, 1); dup2(fd, 2);
    if (fd > 2) close(fd);
}

int main(int argc, char **argv) {
    uint64_t size_mib = 64, rate = 1000, verify_ms = 1000;
    const char *out = NULL;
    int keep_stdio = 0;
    static const struct option opts[] = {
        {"size-mib", required_argument, 0, 's'}, {"rate", required_argument, 0, 'r'},
        {"verify-ms", required_argument, 0, 'v'}, {"out", required_argument, 0, 'o'},
        {"keep-stdio", no_argument, 0, 'k'}, {"probe-soft-dirty", no_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': size_mib = strtoull(optarg, NULL, 10); break;
        case 'r': rate = strtoull(optarg, NULL, 10); break;
        case 'v': verify_ms = strtoull(optarg, NULL, 10); break;
        case 'o': out = optarg; break;
        case 'k': keep_stdio = 1; break;
        case 'p': return probe_soft_dirty();
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (!out || size_mib == 0 || verify_ms == 0) { usage(stderr); return 64; }

    struct state s = {0};
    s.out = out;
    s.pages = size_mib * (1024 * 1024 / PAGE);
    s.mem = mmap(NULL, s.pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s.mem == MAP_FAILED) { fprintf(stderr, "ferry-memtouch: mmap %" PRIu64 " MiB: %s\n", size_mib, strerror(errno)); return 1; }
    /* THP would make soft-dirty 2 MiB-granular: keep the tracking page-exact */
    madvise(s.mem, s.pages * PAGE, MADV_NOHUGEPAGE);
    s.gen = calloc(s.pages, sizeof *s.gen);
    s.sum = calloc(s.pages, sizeof *s.sum);
    if (!s.gen || !s.sum) { fprintf(stderr, "ferry-memtouch: out of memory\n"); return 1; }
    for (uint64_t p = 0; p < s.pages; p++) write_page(&s, p);
    s.rng = mix((uint64_t)getpid() ^ now_ms(CLOCK_REALTIME));

    /* the output must be writable before we go quiet */
    int fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) { fprintf(stderr, "ferry-memtouch: cannot open %s: %s\n", out, strerror(errno)); return 1; }
    close(fd);
    char line[256];
    snprintf(line, sizeof line, "START pages=%" PRIu64 " mib=%" PRIu64 " rate=%" PRIu64 " verify_ms=%" PRIu64 " pid=%d\n",
             s.pages, size_mib, rate, verify_ms, (int)getpid());
    emit(out, line);
    if (!keep_stdio) detach_stdio();
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    verify(&s);

    /* Pacing uses elapsed time clamped to [0, 1 s] per tick, so a checkpoint/restore (the
     * monotonic clock may jump either way on another host) neither bursts nor stalls. */
    const uint64_t tick_ms = 10;
    double owed = 0;
    uint64_t since_verify = 0, last = now_ms(CLOCK_MONOTONIC);
    while (!stop_requested) {
        struct timespec ts = {0, (long)(tick_ms * 1000000)};
        nanosleep(&ts, NULL);
        uint64_t now = now_ms(CLOCK_MONOTONIC);
        uint64_t elapsed = now >= last ? now - last : 0;
        if (elapsed > 1000) elapsed = 1000;
        last = now;
        owed += (double)rate * (double)elapsed / 1000.0;
        while (owed >= 1.0) {
            s.rng = mix(s.rng);
            write_page(&s, s.rng % s.pages);
            owed -= 1.0;
        }
        since_verify += elapsed;
        if (since_verify >= verify_ms) { since_verify = 0; verify(&s); }
    }
    verify(&s);
    snprintf(line, sizeof line, "STOP counter=%" PRIu64 " writes=%" PRIu64 " pid=%d\n", s.counter, s.writes, (int)getpid());
    emit(out, line);
    return 0;
}
