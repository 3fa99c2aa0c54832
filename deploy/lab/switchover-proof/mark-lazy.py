#!/usr/bin/python3
"""Lab experiment only (lazy.sh): adds PE_LAZY to the PE_PARENT entries of a final dump's
pagemap that lie inside [START, END) (hex), in place. usage: mark-lazy.py PAGEMAP START END
Prints how many entries/pages it marked."""
import struct, sys

PE_PARENT, PE_LAZY = 1, 2


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        out.append(b | 0x80 if v else b)
        if not v:
            return bytes(out)


def read_varint(buf, i):
    shift = v = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return v, i


path, lo, hi = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
data = open(path, 'rb').read()
out = bytearray(data[:8])
pos, first, marked, pages = 8, True, 0, 0
while pos < len(data):
    (n,) = struct.unpack_from('<I', data, pos)
    msg = data[pos + 4:pos + 4 + n]
    pos += 4 + n
    if first:
        first = False
        out += struct.pack('<I', n) + msg
        continue
    f, i = {}, 0
    while i < len(msg):
        tag, i = read_varint(msg, i)
        f[tag >> 3], i = read_varint(msg, i)  # pagemap entries have varint fields only
    flags = f.get(4, 0)
    end = f[1] + f[2] * 4096
    if (flags & PE_PARENT or f.get(3)) and f[1] >= lo and end <= hi:
        flags |= PE_PARENT | PE_LAZY
        marked += 1
        pages += f[2]
    m = b''.join(varint(k << 3) + varint(v) for k, v in sorted({**f, 4: flags}.items()) if k != 3)
    out += struct.pack('<I', len(m)) + m
open(path, 'wb').write(out)
print(f"marked {marked} parent entries ({pages} pages) PE_LAZY in {path}")
