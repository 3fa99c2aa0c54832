package dev.ferry.agent.transfer;

import io.grpc.HasByteBuffer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A message's bytes as a sequence of buffers, read in place: views of gRPC's receive buffers
 * (a message spans the few buffers its HTTP/2 frames arrived in) or one buffer of a copy. Reads
 * are absolute and never move the parts' positions.
 *
 * <p>Confined to the thread that parses and receives the message; the views are valid only while
 * whoever owns the underlying buffers keeps them (see {@link InboundMessage}).
 */
final class Pieces {
  private final ByteBuffer[] parts;
  private final int[] starts; // starts[i]: offset of parts[i]'s first byte in the message
  private final int size;
  private int hint; // the part the last get() found: reads are mostly sequential

  Pieces(ByteBuffer... parts) {
    this.parts = new ByteBuffer[parts.length];
    this.starts = new int[parts.length];
    int at = 0;
    for (int i = 0; i < parts.length; i++) {
      this.parts[i] = parts[i].slice();
      starts[i] = at;
      at = Math.addExact(at, parts[i].remaining());
    }
    this.size = at;
  }

  /**
   * The rest of {@code stream} as views of its buffers, the stream advanced past them; null when
   * the stream stops offering buffers before its end (read it as bytes then: {@code reset()} it
   * first if it was marked). The caller must keep the buffers alive while it uses the views:
   * with gRPC's streams, by {@code mark()}ing a detached stream first (read buffers are then kept,
   * not released) and closing it when done.
   */
  static Pieces read(InputStream stream) throws IOException {
    if (!(stream instanceof HasByteBuffer hb) || !hb.byteBufferSupported()) {
      return null;
    }
    List<ByteBuffer> parts = new ArrayList<>(4);
    while (stream.available() > 0) {
      ByteBuffer part = hb.getByteBuffer();
      if (part == null || !part.hasRemaining()) {
        return null;
      }
      int n = part.remaining();
      parts.add(part);
      if (stream.skip(n) != n) {
        return null;
      }
    }
    return new Pieces(parts.toArray(new ByteBuffer[0]));
  }

  int size() {
    return size;
  }

  byte get(int at) {
    int i = part(at);
    return parts[i].get(at - starts[i]);
  }

  /** Copies {@code n} bytes from offset {@code from} into {@code to} at {@code at}. */
  void copyTo(int from, byte[] to, int at, int n) {
    while (n > 0) {
      int i = part(from);
      int off = from - starts[i];
      int k = Math.min(n, parts[i].remaining() - off);
      parts[i].get(off, to, at, k);
      from += k;
      at += k;
      n -= k;
    }
  }

  /** Read-only views covering [from, to), one per part it spans (none when empty). */
  ByteBuffer[] views(int from, int to) {
    List<ByteBuffer> out = new ArrayList<>(2);
    while (from < to) {
      int i = part(from);
      int off = from - starts[i];
      int k = Math.min(to - from, parts[i].remaining() - off);
      out.add(parts[i].slice(off, k).asReadOnlyBuffer());
      from += k;
    }
    return out.toArray(new ByteBuffer[0]);
  }

  private int part(int at) {
    if (at < 0 || at >= size) {
      throw new IndexOutOfBoundsException(at + " outside 0.." + size);
    }
    int i = hint;
    if (at < starts[i]) {
      i = 0;
    }
    while (i + 1 < parts.length && starts[i + 1] <= at) {
      i++;
    }
    hint = i;
    return i;
  }

  /** Total bytes remaining in {@code buffers}. */
  static long remaining(ByteBuffer[] buffers) {
    long n = 0;
    for (ByteBuffer b : buffers) {
      n += b.remaining();
    }
    return n;
  }

  /** {@code buffers}' remaining bytes in one new heap buffer (the rare paths that need them contiguous). */
  static ByteBuffer contiguous(ByteBuffer[] buffers) {
    if (buffers.length == 1) {
      return buffers[0].duplicate();
    }
    ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(remaining(buffers)));
    for (ByteBuffer b : buffers) {
      all.put(b.duplicate());
    }
    return all.flip();
  }
}
