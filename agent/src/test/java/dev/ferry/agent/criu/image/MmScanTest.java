package dev.ferry.agent.criu.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.ferry.proto.criu.MmEntry;
import dev.ferry.proto.criu.StatsEntry;
import dev.ferry.proto.criu.VmaEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VMAs read by hand agree with protobuf's, past the fields a real CRIU mm image has around them. */
class MmScanTest {
  @TempDir Path dir;

  @Test
  void readsTheVmasPastEveryOtherField() throws Exception {
    UnknownFieldSet around = UnknownFieldSet.newBuilder() // mm_start_code..., saved_auxv (repeated), exe_file_id, ...
        .addField(1, UnknownFieldSet.Field.newBuilder().addVarint(0x400000L).build())
        .addField(13, UnknownFieldSet.Field.newBuilder().addVarint(33).addVarint(0x7ffd0000L).addFixed64(5).build())
        .addField(20, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFrom(new byte[300])).build())
        .build();
    MmEntry.Builder mm = MmEntry.newBuilder().setUnknownFields(around);
    long a = 0x7f0000000000L;
    for (int i = 0; i < 40; i++) {
      mm.addVmas(VmaEntry.newBuilder().setStart(a).setEnd(a + (i + 1) * 4096L).setPgoff(i * 8192L).setShmid(i).setProt(3)
          .setFlags(i % 2 == 0 ? 0x22 : 0x2002).setStatus(1 | (i << 9)).setFd(i % 3 == 0 ? -1 : i));
      a += (i + 2) * 4096L;
    }
    Path f = dir.resolve("mm-1.img");
    CriuImageFile.write(f, CriuMagic.MM, List.of(mm.build()));
    List<MmScan.Vma> expected = new ArrayList<>();
    for (VmaEntry v : MmEntry.parseFrom(mm.build().toByteArray()).getVmasList()) {
      expected.add(new MmScan.Vma(v.getStart(), v.getEnd(), v.getFlags(), v.getStatus()));
    }
    assertEquals(expected, MmScan.vmas(f));
  }

  @Test
  void refusesAnotherImageAndATruncatedOne() throws Exception {
    Path stats = dir.resolve("stats-dump");
    CriuImageFile.write(stats, CriuMagic.STATS, List.of(StatsEntry.getDefaultInstance()));
    assertThrows(IOException.class, () -> MmScan.vmas(stats));
    Path f = dir.resolve("mm-1.img");
    CriuImageFile.write(f, CriuMagic.MM, List.of(MmEntry.newBuilder().addVmas(VmaEntry.newBuilder().setStart(4096).setEnd(8192)).build()));
    byte[] all = java.nio.file.Files.readAllBytes(f);
    java.nio.file.Files.write(f, java.util.Arrays.copyOf(all, all.length - 2));
    assertThrows(IOException.class, () -> MmScan.vmas(f));
  }
}
