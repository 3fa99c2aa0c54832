package dev.ferry.agent.criu.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The VMAs of an {@code mm-<pid>.img} ({@code MmEntry.vmas}: start, end, mmap flags, CRIU's
 * status), read straight from the image's bytes: everything else of the entry (the auxv, the
 * code/data/stack bounds, ..., and each VMA's other fields) is skipped, never parsed. Read in the
 * downtime by the flat top layer; the generic parse ran interpreted there (~0.1 s emulated).
 */
public final class MmScan {
  private MmScan() {}

  private static final int MM_VMAS = 14, VMA_START = 1, VMA_END = 2, VMA_FLAGS = 6, VMA_STATUS = 7;

  /** One VMA: its bounds, mmap flags and CRIU status bits. */
  public record Vma(long start, long end, int flags, int status) {}

  /** The VMAs in file order; IOException naming the file when it is no mm image or is malformed. */
  public static List<Vma> vmas(Path mm) throws IOException {
    ProtoFields entry = ProtoFields.firstEntry(Files.readAllBytes(mm), CriuMagic.MM, mm);
    List<Vma> vmas = new ArrayList<>();
    while (entry.next()) {
      if (entry.field != MM_VMAS || entry.wire != 2) {
        entry.skip();
        continue;
      }
      ProtoFields vma = entry.message();
      long start = 0, end = 0;
      int flags = 0, status = 0;
      while (vma.next()) {
        if (vma.wire != 0) {
          vma.skip();
        } else if (vma.field == VMA_START) {
          start = vma.varint();
        } else if (vma.field == VMA_END) {
          end = vma.varint();
        } else if (vma.field == VMA_FLAGS) {
          flags = (int) vma.varint();
        } else if (vma.field == VMA_STATUS) {
          status = (int) vma.varint();
        } else {
          vma.skip();
        }
      }
      vmas.add(new Vma(start, end, flags, status));
    }
    return vmas;
  }
}
