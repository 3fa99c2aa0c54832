#!/usr/bin/python3
"""Lab prototype of Ferry's pre-copy + CRIU parent images (de-risking only; the product code is
Java in dev.ferry.agent.criu). usage: precopy.py OUTER_PID WORK_DIR ROUNDS
Runs ROUNDS soft-dirty rounds (SIGSTOP, pagemap read, clear_refs 4, SIGCONT, copy from
/proc/PID/mem into an in-memory store), then writes
  WORK_DIR/src/parent: inventory.img + pagemap-<nspid>.img          (what the source needs)
  WORK_DIR/dst/parent: inventory.img + pagemap-<nspid>.img + pages-1.img (what the destination holds)
and prints one line per round. Must run as root (PFNs, clear_refs of another process)."""
import os, signal, struct, sys, time

PAGE = 4096
PM_PRESENT, PM_SWAP, PM_FILE, PM_SOFT_DIRTY = 1 << 63, 1 << 62, 1 << 61, 1 << 55
IMG_COMMON, INVENTORY, PAGEMAP = 0x54564319, 0x58313116, 0x56084025


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):  # wire type 0 only
    return varint(num << 3) + varint(value)


def entry(msg):
    return struct.pack('<I', len(msg)) + msg


def areas(pid):
    out = []
    for line in open(f'/proc/{pid}/maps'):
        p = line.split()
        lo, hi = (int(x, 16) for x in p[0].split('-'))
        name = p[5] if len(p) > 5 else ''
        if p[1][3] == 's' or name in ('[vvar]', '[vsyscall]'):
            continue
        out.append((lo, hi, name, p[4] != '0'))
    return out


def wait_stopped(pid):
    deadline = time.time() + 5
    while time.time() < deadline:
        st = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0]
        if st in ('T', 't'):
            return
        time.sleep(0.001)
    raise SystemExit(f'pid {pid} did not stop')


def capture(pid, first):
    os.kill(pid, signal.SIGSTOP)
    t0 = time.time()
    wait_stopped(pid)
    dirty = []
    layout = areas(pid)
    with open(f'/proc/{pid}/pagemap', 'rb') as pm:
        for lo, hi, name, file_backed in layout:
            pm.seek(lo // PAGE * 8)
            raw = pm.read((hi - lo) // PAGE * 8)
            for i, (e,) in enumerate(struct.iter_unpack('<Q', raw)):
                addr = lo + i * PAGE
                if name == '[vdso]':
                    if first or e & PM_SOFT_DIRTY:
                        dirty.append(addr)
                    continue
                if not e & (PM_PRESENT | PM_SWAP):
                    continue
                if file_backed and e & PM_FILE:
                    continue
                if first or e & PM_SOFT_DIRTY:
                    dirty.append(addr)
    with open(f'/proc/{pid}/clear_refs', 'w') as f:
        f.write('4')
    os.kill(pid, signal.SIGCONT)
    return layout, dirty, time.time() - t0


def main():
    pid, work, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    nspid = open(f'/proc/{pid}/status').read().split('NSpid:')[1].split('\n')[0].split()[-1]
    store = {}
    layout = []
    for r in range(1, rounds + 1):
        t0 = time.time()
        layout, dirty, freeze = capture(pid, r == 1)
        with open(f'/proc/{pid}/mem', 'rb', buffering=0) as mem:
            for a in dirty:
                mem.seek(a)
                store[a] = mem.read(PAGE)
        print(f'round={r} dirty_pages={len(dirty)} freeze_ms={freeze*1000:.1f} '
              f'round_ms={(time.time()-t0)*1000:.0f} store_pages={len(store)}', flush=True)
    # keep only pages inside areas that exist now (vanished areas were unmapped)
    live = [(lo, hi) for lo, hi, _, _ in layout]
    addrs = sorted(a for a in store if any(lo <= a < hi for lo, hi in live))
    runs = []
    for a in addrs:
        if runs and runs[-1][0] + runs[-1][1] * PAGE == a:
            runs[-1][1] += 1
        else:
            runs.append([a, 1])
    uptime_us = int(float(open('/proc/uptime').read().split()[0]) * 1_000_000)
    inv = struct.pack('<I', INVENTORY) + entry(field(1, 2) + field(8, uptime_us))
    pm = struct.pack('<II', IMG_COMMON, PAGEMAP) + entry(field(1, 1))
    for a, n in runs:
        pm += entry(field(1, a) + field(2, n) + field(4, 4))  # flags = PE_PRESENT
    # the source side first: the dump must follow the last round closely (CRIU dumps what was
    # written since its clear_refs); the destination's pages are written after the dump starts
    for side in ('src', 'dst'):
        d = os.path.join(work, side, 'parent')
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, 'inventory.img'), 'wb').write(inv)
        open(os.path.join(d, f'pagemap-{nspid}.img'), 'wb').write(pm)
    print(f'SRC-PARENT-READY pages={len(addrs)} runs={len(runs)} nspid={nspid} dump_uptime_us={uptime_us}', flush=True)
    sys.stdin.readline()  # the driver says when the dump is over
    with open(os.path.join(work, 'dst', 'parent', 'pages-1.img'), 'wb') as f:
        for a in addrs:
            f.write(store[a])
    print('DST-PARENT-READY', flush=True)


if __name__ == '__main__':
    main()
