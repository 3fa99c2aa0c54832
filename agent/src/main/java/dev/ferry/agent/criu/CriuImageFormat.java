package dev.ferry.agent.criu;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The few facts of CRIU's image format (images v1.1, CRIU 3.x) this package needs: a file starts
 * with a 32-bit little-endian "common" magic (absent for inventory.img) and the image's own magic,
 * then entries, each a 32-bit little-endian length and a protobuf message. The messages are
 * encoded field by field (CRIU's images/*.proto: inventory, pagemap, stats); numbers are CRIU's,
 * stable since 2013.
 */
final class CriuImageFormat {
  static final int PAGE_SIZE = 4096;

  static final int MAGIC_IMG_COMMON = 0x54564319;
  static final int MAGIC_IMG_SERVICE = 0x55105940;
  static final int MAGIC_INVENTORY = 0x58313116;
  static final int MAGIC_PAGEMAP = 0x56084025;
  static final int MAGIC_STATS = 0x57093306;

  /** inventory_entry.img_version: CRIU_IMAGES_V1_1. */
  static final int IMAGES_V1_1 = 2;

  /** pagemap_entry.flags: PE_PRESENT (the pages are in this dir's pages image). */
  static final int PE_PRESENT = 1 << 2;

  // inventory_entry
  static final int INVENTORY_IMG_VERSION = 1;
  static final int INVENTORY_DUMP_UPTIME = 8;
  // pagemap_head / pagemap_entry
  static final int PAGEMAP_HEAD_PAGES_ID = 1;
  static final int PAGEMAP_VADDR = 1;
  static final int PAGEMAP_NR_PAGES = 2;
  static final int PAGEMAP_FLAGS = 4;
  // stats_entry / dump_stats_entry
  static final int STATS_DUMP = 1;
  static final int DUMP_FREEZING_TIME = 1;
  static final int DUMP_FROZEN_TIME = 2;
  static final int DUMP_MEMDUMP_TIME = 3;
  static final int DUMP_MEMWRITE_TIME = 4;
  static final int DUMP_PAGES_SCANNED = 5;
  static final int DUMP_PAGES_SKIPPED_PARENT = 6;
  static final int DUMP_PAGES_WRITTEN = 7;

  private CriuImageFormat() {}

  static byte[] magics(int... magics) {
    ByteBuffer b = ByteBuffer.allocate(4 * magics.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int m : magics) {
      b.putInt(m);
    }
    return b.array();
  }

  /** One framed entry: length, then the message. */
  static byte[] entry(MessageBody body) {
    ByteArrayOutputStream message = new ByteArrayOutputStream(32);
    CodedOutputStream out = CodedOutputStream.newInstance(message);
    try {
      body.writeTo(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("encoding into memory cannot fail", e);
    }
    byte[] m = message.toByteArray();
    ByteBuffer framed = ByteBuffer.allocate(4 + m.length).order(ByteOrder.LITTLE_ENDIAN);
    framed.putInt(m.length).put(m);
    return framed.array();
  }

  /** Writes the fields of one message. */
  @FunctionalInterface
  interface MessageBody {
    void writeTo(CodedOutputStream out) throws IOException;
  }

  /** Reads a 32-bit little-endian word at the buffer's position. */
  static int readMagic(ByteBuffer image) {
    return image.order(ByteOrder.LITTLE_ENDIAN).getInt();
  }

  /** The next framed entry's message, or null at the end of the image. */
  static CodedInputStream nextEntry(ByteBuffer image) throws IOException {
    image.order(ByteOrder.LITTLE_ENDIAN);
    if (image.remaining() == 0) {
      return null;
    }
    if (image.remaining() < 4) {
      throw new IOException("truncated entry header (" + image.remaining() + " bytes left)");
    }
    int size = image.getInt();
    if (size < 0 || size > image.remaining()) {
      throw new IOException("entry of " + size + " bytes, only " + image.remaining() + " left");
    }
    ByteBuffer message = image.slice();
    message.limit(size);
    image.position(image.position() + size);
    return CodedInputStream.newInstance(message);
  }
}
