package dev.ferry.agent.freezer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.tracking.PageChild;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The cgroup v2 freezer on a real cgroup holding only the tracked child (needs root and cgroup2). */
class CgroupFreezerTest {
  private Path cgroup;

  @BeforeEach
  void makeCgroup() throws IOException {
    Optional<Path> mount = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .filter(l -> l.contains(" - cgroup2 ")).map(l -> Path.of(l.split(" ")[4])).findFirst();
    Assumptions.assumeTrue(mount.isPresent(), "no cgroup2 mount");
    cgroup = mount.get().resolve("ferry-freezer-test-" + ProcessHandle.current().pid());
    try {
      Files.createDirectories(cgroup);
    } catch (IOException e) {
      Assumptions.abort("cannot create a cgroup (not root?): " + e);
    }
    Assumptions.assumeTrue(Files.exists(cgroup.resolve("cgroup.freeze")), "cgroup v2 without cgroup.freeze");
  }

  @AfterEach
  void removeCgroup() throws Exception {
    if (cgroup != null && Files.exists(cgroup)) {
      Files.writeString(cgroup.resolve("cgroup.freeze"), "0");
      FreezerContract.await(() -> readProcs().isBlank(), "the cgroup is empty");
      Files.delete(cgroup);
    }
  }

  private String readProcs() {
    try {
      return Files.readString(cgroup.resolve("cgroup.procs"));
    } catch (IOException e) {
      return "";
    }
  }

  private static byte[] region(PageChild child) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(child.pages() * 4096);
    try (FileChannel mem = FileChannel.open(Path.of("/proc/" + child.pid() + "/mem"), StandardOpenOption.READ)) {
      while (buf.hasRemaining()) {
        mem.read(buf, child.region() + buf.position());
      }
    }
    return buf.array();
  }

  @Test
  void freezesTheTreeWhenItHasItsOwnCgroupAndOnlyThen() throws Exception {
    try (PageChild child = PageChild.start(16); PageChild outsider = PageChild.start(1)) {
      assertInstanceOf(SignalFreezer.class, Freezers.forTree(List.of(child.pid())), "no cgroup of its own yet");
      Files.writeString(cgroup.resolve("cgroup.procs"), Integer.toString(child.pid()));
      child.startStress(3);
      Freezer freezer = Freezers.forTree(List.of(child.pid()));
      assertInstanceOf(CgroupFreezer.class, freezer, "the child is alone in its cgroup");
      try (FrozenTree frozen = freezer.freeze(List.of(child.pid()), Duration.ofSeconds(30))) {
        assertTrue(Files.readString(cgroup.resolve("cgroup.events")).contains("frozen 1"));
        byte[] before = region(child);
        byte[] again = region(child);
        assertArrayEquals(before, again, "no writes while frozen");
      }
      byte[] after = region(child);
      FreezerContract.await(() -> {
        try {
          return !Arrays.equals(after, region(child));
        } catch (IOException e) {
          return false;
        }
      }, "the writer runs again after the thaw");
      Files.writeString(cgroup.resolve("cgroup.procs"), Integer.toString(outsider.pid()));
      assertInstanceOf(SignalFreezer.class, Freezers.forTree(List.of(child.pid())), "the cgroup holds another process");
      assertEquals("0", Files.readString(cgroup.resolve("cgroup.freeze")).trim(), "thawed after the round");
    }
  }
}
