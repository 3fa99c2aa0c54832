package dev.ferry.agent.criu.image;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the entries of a {@code pagemap-<pid>.img} one by one straight from the file's bytes,
 * without a message object or a copy per entry: the switch-over's check of the final dump's
 * in_parent entries against the store runs once per migration, cold (interpreted) in the agent's
 * JVM, and under the lab's emulation the generic path ({@link CriuImageFile#read} + a parser per
 * entry) cost seconds for ~30 k entries. Same framing as {@link CriuImageFile}; same fields as
 * {@code ferry/criu.proto} PagemapEntry (vaddr 1, nr_pages 2, in_parent 3, flags 4).
 */
public final class PagemapScan {
  private PagemapScan() {}

  /** One pagemap entry: {@code inParent} is PE_PARENT (flags bit 0) or the old in_parent field. */
  @FunctionalInterface
  public interface Visitor {
    void entry(long vaddr, long nrPages, int flags, boolean inParent) throws IOException;
  }

  private static final int PE_PARENT = 1;

  /**
   * Visits every entry after the head, in file order. Throws IOException naming the file when it
   * is not a pagemap image or is truncated.
   */
  public static void forEach(Path file, Visitor visitor) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 8 || b.getInt(0) != CriuMagic.IMG_COMMON || b.getInt(4) != CriuMagic.PAGEMAP.magic()) {
      throw new IOException(file + " is not a pagemap image");
    }
    int pos = 8;
    boolean head = true;
    while (pos < bytes.length) {
      if (pos + 4 > bytes.length) {
        throw new IOException(file + ": truncated entry length at offset " + pos);
      }
      int size = b.getInt(pos);
      pos += 4;
      if (size < 0 || pos + size > bytes.length) {
        throw new IOException(file + ": truncated entry at offset " + pos + " (" + size + " bytes)");
      }
      if (!head) {
        visit(bytes, pos, pos + size, file, visitor);
      }
      head = false;
      pos += size;
    }
  }

  /**
   * The head's {@code pages_id} (the N of {@code pages-N.img}) of a pagemap image; reads only the
   * head. Throws IOException naming the file when it is not a pagemap image or has no head.
   */
  public static int pagesId(Path file) throws IOException {
    byte[] start;
    try (var in = Files.newInputStream(file)) {
      start = in.readNBytes(4096);
    }
    ByteBuffer b = ByteBuffer.wrap(start).order(ByteOrder.LITTLE_ENDIAN);
    if (start.length < 12 || b.getInt(0) != CriuMagic.IMG_COMMON || b.getInt(4) != CriuMagic.PAGEMAP.magic()) {
      throw new IOException(file + " is not a pagemap image");
    }
    int size = b.getInt(8);
    if (size < 0 || 12 + size > start.length) {
      throw new IOException(file + ": truncated pagemap head");
    }
    CodedInputStream in = CodedInputStream.newInstance(start, 12, size);
    int tag;
    while ((tag = in.readTag()) != 0) {
      if (tag == ((1 << 3) | WireFormat.WIRETYPE_VARINT)) {
        return in.readUInt32();
      }
      if (!in.skipField(tag)) {
        break;
      }
    }
    throw new IOException(file + ": the pagemap head has no pages_id");
  }

  /**
   * Decodes one entry from {@code b[pos, end)} by hand: a few varints, no decoder object per entry
   * (interpreted under the lab's emulation, a CodedInputStream per entry was most of the flat
   * layer's image reading in the downtime).
   */
  private static void visit(byte[] b, int pos, int end, Path file, Visitor visitor) throws IOException {
    long vaddr = 0, nr = 0;
    int flags = 0;
    boolean inParent = false;
    while (pos < end) {
      long tag = 0;
      int shift = 0;
      while (true) { // the tag varint
        if (pos >= end || shift > 28) {
          throw new IOException(file + ": malformed pagemap entry (tag)");
        }
        byte x = b[pos++];
        tag |= (long) (x & 0x7f) << shift;
        if (x >= 0) {
          break;
        }
        shift += 7;
      }
      int wire = (int) (tag & 7);
      long field = tag >>> 3;
      if (wire == WireFormat.WIRETYPE_VARINT) {
        long v = 0;
        shift = 0;
        while (true) {
          if (pos >= end || shift > 63) {
            throw new IOException(file + ": malformed pagemap entry (varint)");
          }
          byte x = b[pos++];
          v |= (long) (x & 0x7f) << shift;
          if (x >= 0) {
            break;
          }
          shift += 7;
        }
        if (field == 1) {
          vaddr = v;
        } else if (field == 2) {
          nr = v & 0xffffffffL;
        } else if (field == 3) {
          inParent = v != 0;
        } else if (field == 4) {
          flags = (int) v;
        }
      } else if (wire == WireFormat.WIRETYPE_FIXED64) {
        pos += 8;
      } else if (wire == WireFormat.WIRETYPE_FIXED32) {
        pos += 4;
      } else if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        long len = 0;
        shift = 0;
        while (true) {
          if (pos >= end || shift > 28) {
            throw new IOException(file + ": malformed pagemap entry (length)");
          }
          byte x = b[pos++];
          len |= (long) (x & 0x7f) << shift;
          if (x >= 0) {
            break;
          }
          shift += 7;
        }
        pos += (int) Math.min(len, Integer.MAX_VALUE);
      } else {
        throw new IOException(file + ": malformed pagemap entry (wire type " + wire + ")");
      }
      if (pos > end) {
        throw new IOException(file + ": malformed pagemap entry (a field runs past its end)");
      }
    }
    visitor.entry(vaddr, nr, flags, inParent || (flags & PE_PARENT) != 0);
  }
}
