package dev.ferry.agent.transfer;

import java.nio.ByteBuffer;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The per-page hash both agents use for the round digest.
 *
 * <p>{@code pageHash = mix(pid, address, XXH64(content))}, never 0 (0 marks "no page" in a
 * {@link PageTable}). The digest of a set of pages is the 64-bit wrapping sum of their page
 * hashes: order-independent and incremental (replace a page: subtract the old hash, add the new),
 * so the source computes it from what it sent and the destination from what it stored, and they
 * agree exactly when both hold the same (pid, address, content) set.
 *
 * <p>Thread-safe (XXH64 instances are stateless).
 */
public final class PageHashing {
  public static final int PAGE = 4096;

  private final XXHash64 xxh64 = XXHashFactory.fastestJavaInstance().hash64();
  private final long zeroContentHash;

  public PageHashing() {
    zeroContentHash = xxh64.hash(ByteBuffer.allocateDirect(PAGE), 0, PAGE, 0);
  }

  /** XXH64 of the page at {@code offset} in {@code buffer} (absolute, position untouched). */
  public long contentHash(ByteBuffer buffer, int offset) {
    return xxh64.hash(buffer, offset, PAGE, 0);
  }

  public long zeroContentHash() {
    return zeroContentHash;
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
  // produce correlated hashes whose sums could cancel.
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
