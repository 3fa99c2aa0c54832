# A lab workload whose memory layout keeps changing: every 20 ms it maps a new 64 KiB anonymous
# block (fresh pages, outside whatever a pre-copy round saw) filled with a pattern of its index,
# and beyond 128 blocks it unmaps the oldest. Every 500 ms it checks every live block and appends
# "OK counter=<n> blocks=<b>" or "CORRUPT counter=<n> block=<i>" to the output file (opened,
# written, closed per line: no fd survives, as ferry-memtouch). Used by SwitchoverLabTest to prove
# the restore falls back from the flat top layer to the parent layer and still restores intact.
# It also maps a small file privately and writes its first page (an anonymous copy-on-write page
# a pre-copy round holds); on SIGUSR1 it drops that page (MADV_DONTNEED: the mapping reads the
# file again), appends "DROPPED", and from then on checks that the page reads the file's bytes.
# The final dump then lacks a page the store holds, in a file-backed VMA: a flat layer would
# bring the stale written copy back (CORRUPT), so the restore must take the parent path.
import mmap
import os
import signal
import sys
import time

out = sys.argv[1]
SIZE = 64 * 1024
KEEP = 128
PAGE = 4096


def line(text):
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (text + "\n").encode())
    finally:
        os.close(fd)


def pattern(i):
    return (i.to_bytes(8, "little") + bytes([i % 251]) * 8) * (SIZE // 16)


backing = out + ".backing"
with open(backing, "wb") as f:
    f.write(b"F" * (4 * PAGE))
fd = os.open(backing, os.O_RDWR)
private = mmap.mmap(fd, 4 * PAGE, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
os.close(fd)
private[0:PAGE] = b"W" * PAGE
dropped = False


def drop(signum, frame):
    global dropped
    private.madvise(mmap.MADV_DONTNEED, 0, PAGE)
    dropped = True
    line("DROPPED")


signal.signal(signal.SIGUSR1, drop)

blocks = {}
next_index = 0
counter = 0
last_check = 0.0
while True:
    m = mmap.mmap(-1, SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.write(pattern(next_index))
    blocks[next_index] = m
    if len(blocks) > KEEP:
        blocks.pop(next_index - KEEP).close()
    next_index += 1
    now = time.monotonic()
    if now - last_check >= 0.5:
        last_check = now
        counter += 1
        bad = [i for i, b in blocks.items() if b[:] != pattern(i)]
        want = b"F" * PAGE if dropped else b"W" * PAGE
        if private[0:PAGE] != want:
            line("CORRUPT counter=%d private page reads %r, expected %r" % (counter, private[0:1], want[0:1]))
        elif bad:
            line("CORRUPT counter=%d block=%d" % (counter, bad[0]))
        else:
            line("OK counter=%d blocks=%d" % (counter, len(blocks)))
    time.sleep(0.02)
