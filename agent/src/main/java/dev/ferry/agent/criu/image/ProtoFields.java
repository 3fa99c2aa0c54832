package dev.ferry.agent.criu.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * A walk over the fields of one protobuf message's bytes {@code [pos, end)}, without a message
 * object: for the few figures the switch-over reads from large CRIU images ({@link CoreScan},
 * {@link MmScan}); every field it does not ask for is skipped by its wire type and length.
 * Confined to one thread.
 */
final class ProtoFields {
  private final byte[] b;
  private final Path file;
  private final int end;
  private int pos;
  int field;
  int wire;

  /**
   * The first entry of an image of {@code magic} (after IMG_COMMON and the magic, a 4-byte length
   * and the message): IOException naming the file when it is another image or truncated.
   */
  static ProtoFields firstEntry(byte[] b, CriuMagic magic, Path file) throws IOException {
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    if (b.length < 12 || bb.getInt(0) != CriuMagic.IMG_COMMON || bb.getInt(4) != magic.magic()) {
      throw new IOException(file + " is not a " + magic.name().toLowerCase(java.util.Locale.ROOT) + " image");
    }
    int size = bb.getInt(8);
    if (size < 0 || 12 + size > b.length) {
      throw new IOException(file + ": truncated entry");
    }
    return new ProtoFields(b, 12, 12 + size, file);
  }

  ProtoFields(byte[] b, int pos, int end, Path file) {
    this.b = b;
    this.pos = pos;
    this.end = end;
    this.file = file;
  }

  boolean next() throws IOException {
    if (pos >= end) {
      return false;
    }
    long tag = varint();
    field = (int) (tag >>> 3);
    wire = (int) (tag & 7);
    return true;
  }

  long varint() throws IOException {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        break;
      }
      byte x = b[pos++];
      v |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return v;
      }
    }
    throw new IOException(file + ": malformed entry (varint)");
  }

  ProtoFields message() throws IOException {
    int len = length();
    ProtoFields f = new ProtoFields(b, pos, pos + len, file);
    pos += len;
    return f;
  }

  void skip() throws IOException {
    switch (wire) {
      case 0 -> varint();
      case 1 -> advance(8);
      case 2 -> advance(length());
      case 5 -> advance(4);
      default -> throw new IOException(file + ": malformed entry (wire type " + wire + ")");
    }
  }

  private int length() throws IOException {
    long len = varint();
    if (len < 0 || len > end - pos) {
      throw new IOException(file + ": malformed entry (a field runs past its end)");
    }
    return (int) len;
  }

  private void advance(int n) throws IOException {
    if (n > end - pos) {
      throw new IOException(file + ": malformed entry (a field runs past its end)");
    }
    pos += n;
  }
}
