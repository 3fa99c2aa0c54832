package dev.ferry.agent.transfer;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The per-page hash both agents use for the round digest, and the per-page CRC32C the batch
 * check is combined from: each page is read once, on each side.
 *
 * <p>The content hash of a page is its two half-page CRC32Cs, {@code crc(first 2 KiB) << 32 |
 * crc(last 2 KiB)}: computed by the CPU's CRC32C instruction (the JDK intrinsic), many times
 * faster than a software 64-bit hash, and {@link #pageCrc} combines the halves into the CRC32C of
 * the whole page, from which {@link BatchCheck} builds a batch's CRC32C without a second pass.
 *
 * <p>{@code pageHash = mix(pid, address, content hash)}, never 0 (0 marks "no page" in a
 * {@link PageTable}). The digest of a set of pages is the 64-bit wrapping sum of their page
 * hashes: order-independent and incremental (replace a page: subtract the old hash, add the new),
 * so the source computes it from what it sent and the destination from what it stored, and they
 * agree exactly when both hold the same (pid, address, content) set. (Transport corruption is
 * the batch CRC's job; the digest catches pages missing, extra or stale.)
 *
 * <p>Thread-safe: the CRC32C state is per call (a fresh CRC32C is a few fields, scalar-replaced).
 */
public final class PageHashing {
  public static final int PAGE = 4096;
  static final int HALF = PAGE / 2;
  private static final Crc32cCombine HALVES = new Crc32cCombine(HALF);

  private final long zeroContentHash;

  public PageHashing() {
    zeroContentHash = contentHash(new byte[PAGE], 0);
  }

  /** The content hash of the page at {@code offset} in {@code buffer} (absolute, position untouched). */
  public long contentHash(ByteBuffer buffer, int offset) {
    ByteBuffer view = buffer.duplicate();
    view.limit(offset + HALF).position(offset);
    CRC32C crc = new CRC32C();
    crc.update(view);
    long first = crc.getValue();
    crc.reset();
    view.limit(offset + PAGE).position(offset + HALF);
    crc.update(view);
    return first << 32 | crc.getValue();
  }

  /** The content hash of the page at {@code offset} in {@code array}. */
  public long contentHash(byte[] array, int offset) {
    CRC32C crc = new CRC32C();
    crc.update(array, offset, HALF);
    long first = crc.getValue();
    crc.reset();
    crc.update(array, offset + HALF, HALF);
    return first << 32 | crc.getValue();
  }

  /**
   * The content hashes of the whole pages in {@code data} (the buffers' remaining bytes, one
   * after the other; positions untouched) into {@code out}; returns how many. A page split across
   * two buffers (a message's bytes as they arrived: {@link Pieces}) is hashed from a copy.
   */
  public int contentHashes(ByteBuffer[] data, long[] out) {
    int pages = 0;
    byte[] straddling = null;
    int filled = 0; // bytes of a straddling page gathered so far
    for (ByteBuffer b : data) {
      int at = b.position();
      int end = b.limit();
      if (filled > 0) {
        int k = Math.min(PAGE - filled, end - at);
        b.get(at, straddling, filled, k);
        filled += k;
        at += k;
        if (filled == PAGE) {
          out[pages++] = contentHash(straddling, 0);
          filled = 0;
        }
      }
      for (; end - at >= PAGE; at += PAGE) {
        out[pages++] = contentHash(b, at);
      }
      if (at < end) {
        if (straddling == null) {
          straddling = new byte[PAGE];
        }
        b.get(at, straddling, 0, end - at);
        filled = end - at;
      }
    }
    return pages;
  }

  public long zeroContentHash() {
    return zeroContentHash;
  }

  /** The CRC32C of the whole page whose {@link #contentHash} this is. */
  public static int pageCrc(long contentHash) {
    return HALVES.combine((int) (contentHash >>> 32), (int) contentHash);
  }

  /** The digest contribution of one page; never 0. */
  public static long pageHash(int pid, long address, long contentHash) {
    long h = mix(contentHash + mix(address ^ (pid * 0x9E3779B97F4A7C15L)));
    return h == 0 ? 1 : h;
  }

  /** A digest as the 16-digit hex string carried in RoundTrailer and RoundAck. */
  public static String hex(long digest) {
    return String.format("%016x", digest);
  }

  // splitmix64 finalizer: a bijection with good avalanche, so neighbouring addresses do not
  // produce correlated hashes whose sums could cancel, and the two CRC halves are mixed.
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
