package dev.ferry.agent.criu.image;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CRIU's protobuf image framing (criu/image.c, protobuf.c): the magic header, then each entry
 * as a little-endian u32 length followed by that many bytes of protobuf.
 */
public final class CriuImageFile {
  private CriuImageFile() {}

  /** A decoded image: its magic and its raw entries in order. */
  public record Image(CriuMagic magic, List<ByteString> entries) {}

  /** Writes {@code entries} as an image of kind {@code magic} to {@code file} (replacing it). */
  public static void write(Path file, CriuMagic magic, List<? extends MessageLite> entries) throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024)) {
      if (magic.head() != 0) {
        writeU32(out, magic.head());
      }
      writeU32(out, magic.magic());
      for (MessageLite e : entries) {
        writeU32(out, e.getSerializedSize());
        e.writeTo(out);
      }
    }
  }

  /** Reads an image; throws IOException naming the file when its magic is unknown or it is truncated. */
  public static Image read(Path file) throws IOException {
    try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
      int first = readU32(in, file);
      int magicValue = first == CriuMagic.IMG_COMMON || first == CriuMagic.IMG_SERVICE ? readU32(in, file) : first;
      CriuMagic magic = CriuMagic.of(magicValue);
      if (magic == null) {
        throw new IOException(file + ": unknown CRIU image magic 0x" + Integer.toHexString(magicValue));
      }
      List<ByteString> entries = new ArrayList<>();
      byte[] len = new byte[4];
      while (true) {
        int n = in.readNBytes(len, 0, 4);
        if (n == 0) {
          return new Image(magic, entries);
        }
        if (n < 4) {
          throw new IOException(file + ": truncated entry length");
        }
        int size = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
        byte[] body = in.readNBytes(size);
        if (body.length != size) {
          throw new IOException(file + ": truncated entry (" + body.length + " of " + size + " bytes)");
        }
        entries.add(ByteString.copyFrom(body));
      }
    }
  }

  /** Parses entry {@code i} of {@code image} with {@code parser}. */
  public static <T> T entry(Image image, int i, com.google.protobuf.Parser<T> parser) throws IOException {
    try {
      return parser.parseFrom(image.entries().get(i));
    } catch (InvalidProtocolBufferException | IndexOutOfBoundsException e) {
      throw new IOException(image.magic() + " image: entry " + i + " is missing or malformed: " + e.getMessage(), e);
    }
  }

  private static void writeU32(OutputStream out, int v) throws IOException {
    out.write(v);
    out.write(v >>> 8);
    out.write(v >>> 16);
    out.write(v >>> 24);
  }

  private static int readU32(InputStream in, Path file) throws IOException {
    byte[] b = in.readNBytes(4);
    if (b.length < 4) {
      throw new IOException(file + ": too short for a CRIU image");
    }
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
  }
}
