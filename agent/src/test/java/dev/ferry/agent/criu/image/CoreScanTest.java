package dev.ferry.agent.criu.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.ferry.proto.criu.CoreEntry;
import dev.ferry.proto.criu.StatsEntry;
import dev.ferry.proto.criu.ThreadInfoX86;
import dev.ferry.proto.criu.UserX86RegsEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stack pointer read by hand agrees with protobuf's, past the fields a real CRIU core image has around it. */
class CoreScanTest {
  @TempDir Path dir;

  /** Fields CRIU writes that Ferry's trimmed proto does not declare: varints, fixed, long nested blobs. */
  private static UnknownFieldSet around(int first) {
    return UnknownFieldSet.newBuilder()
        .addField(first, UnknownFieldSet.Field.newBuilder().addVarint(123456789L).addFixed64(-1L).addFixed32(7).build())
        .addField(first + 1, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFrom(new byte[5000])).build())
        .build();
  }

  private Path core(CoreEntry e) throws Exception {
    Path f = dir.resolve("core-1.img");
    CriuImageFile.write(f, CriuMagic.CORE, List.of(e));
    return f;
  }

  @Test
  void readsTheStackPointerPastUnknownFields() throws Exception {
    long sp = 0x7ffd12345678L;
    CoreEntry e = CoreEntry.newBuilder().setMtype(1).setUnknownFields(around(9))
        .setThreadInfo(ThreadInfoX86.newBuilder().setUnknownFields(around(5))
            .setGpregs(UserX86RegsEntry.newBuilder().setSp(sp).setUnknownFields(around(1)))).build();
    Path f = core(e);
    assertEquals(CoreEntry.parseFrom(e.toByteArray()).getThreadInfo().getGpregs().getSp(), CoreScan.stackPointer(f));
    assertEquals(sp, CoreScan.stackPointer(f));
  }

  @Test
  void refusesAnotherArchitectureAMissingSpAndAnotherImage() throws Exception {
    Path arm = core(CoreEntry.newBuilder().setMtype(2)
        .setThreadInfo(ThreadInfoX86.newBuilder().setGpregs(UserX86RegsEntry.newBuilder().setSp(4096))).build());
    IOException e = assertThrows(IOException.class, () -> CoreScan.stackPointer(arm));
    assertTrue(e.getMessage().contains("mtype 2"), e.getMessage());
    Path noSp = core(CoreEntry.newBuilder().setMtype(1).setThreadInfo(ThreadInfoX86.newBuilder()
        .setGpregs(UserX86RegsEntry.newBuilder().setUnknownFields(around(1)))).build());
    assertThrows(IOException.class, () -> CoreScan.stackPointer(noSp));
    Path stats = dir.resolve("stats-dump");
    CriuImageFile.write(stats, CriuMagic.STATS, List.of(StatsEntry.getDefaultInstance()));
    assertThrows(IOException.class, () -> CoreScan.stackPointer(stats));
  }
}
