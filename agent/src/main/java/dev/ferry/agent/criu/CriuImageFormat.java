package dev.ferry.agent.criu;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The framing of CRIU's image files (images v1.1, CRIU 3.x): a 32-bit little-endian "common"
 * magic (absent for inventory.img), the image's own magic, then entries, each a 32-bit
 * little-endian length and a protobuf message (ferry/criu.proto: CRIU's own field numbers).
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

  private CriuImageFormat() {}

  static byte[] magics(int... magics) {
    ByteBuffer b = ByteBuffer.allocate(4 * magics.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int m : magics) {
      b.putInt(m);
    }
    return b.array();
  }

  /** One framed entry: length, then the message. */
  static byte[] entry(MessageLite message) {
    byte[] m = message.toByteArray();
    ByteBuffer framed = ByteBuffer.allocate(4 + m.length).order(ByteOrder.LITTLE_ENDIAN);
    framed.putInt(m.length).put(m);
    return framed.array();
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
