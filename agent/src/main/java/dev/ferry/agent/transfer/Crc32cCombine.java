package dev.ferry.agent.transfer;

/**
 * Combines CRC32C values: from {@code crc(A)} and {@code crc(B)} and the length of B, the CRC32C
 * of the concatenation AB, without reading the bytes again. This is what lets a page be read once
 * (per-half CRC32Cs) and still yield both its digest hash and the batch's CRC32C of all its data.
 *
 * <p>Arithmetic in GF(2)[x] modulo the reflected Castagnoli polynomial, the method zlib's
 * {@code crc32_combine} uses: {@code crc(AB) = crc(A) * x^(8 len(B)) mod P  xor  crc(B)} (the
 * pre/post inversion of the standard CRC cancels out). Values are the ones
 * {@link java.util.zip.CRC32C#getValue()} returns, as ints. Immutable and thread-safe.
 */
public final class Crc32cCombine {
  private static final int POLY = 0x82F63B78; // Castagnoli, reflected
  /** X2N[k] = x^(2^k) mod P. */
  private static final int[] X2N = new int[32];

  static {
    int p = 1 << 30; // x^1
    X2N[0] = p;
    for (int k = 1; k < 32; k++) {
      p = multiply(p, p);
      X2N[k] = p;
    }
  }

  private final int shift;

  /** A combiner for a second part of exactly {@code length} bytes (precomputed operator). */
  public Crc32cCombine(long length) {
    this.shift = xPow8n(length);
  }

  /** CRC32C of A followed by B, where B has the length this combiner was made for. */
  public int combine(int crcA, int crcB) {
    return multiply(shift, crcA) ^ crcB;
  }

  /** CRC32C of A followed by B, for any length of B. */
  public static int combine(int crcA, int crcB, long lengthB) {
    if (lengthB <= 0) {
      return crcA; // CRC32C of the empty string is 0; A followed by nothing is A
    }
    return multiply(xPow8n(lengthB), crcA) ^ crcB;
  }

  /** x^(8n) mod P. */
  private static int xPow8n(long n) {
    int p = 1 << 31; // x^0
    int k = 3; // 8n = n * 2^3
    while (n != 0) {
      if ((n & 1) != 0) {
        p = multiply(X2N[k & 31], p);
      }
      n >>>= 1;
      k++;
    }
    return p;
  }

  /** a * b mod P (reflected bit order: bit 31 is x^0). */
  private static int multiply(int a, int b) {
    int m = 1 << 31;
    int p = 0;
    while (true) {
      if ((a & m) != 0) {
        p ^= b;
        if ((a & (m - 1)) == 0) {
          return p;
        }
      }
      m >>>= 1;
      if (m == 0) {
        return p;
      }
      b = (b & 1) != 0 ? (b >>> 1) ^ POLY : b >>> 1;
    }
  }
}
