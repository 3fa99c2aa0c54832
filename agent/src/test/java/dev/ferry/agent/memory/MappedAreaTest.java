package dev.ferry.agent.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The maps parser and classifier on real /proc/PID/maps lines (taken from this machine and the lab). */
class MappedAreaTest {

  static AreaKind kind(String line) {
    return AreaKind.of(MappedArea.parse(line));
  }

  @Test
  void parsesEveryColumn() {
    MappedArea a = MappedArea.parse(
        "7f9f5c5f2000-7f9f5c5f4000 rw-p 001d3000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6");
    assertEquals(0x7f9f5c5f2000L, a.start());
    assertEquals(0x7f9f5c5f4000L, a.end());
    assertEquals("rw-p", a.perms());
    assertEquals(0x1d3000L, a.offset());
    assertEquals("fe:00", a.device());
    assertEquals(339380L, a.inode());
    assertEquals("/usr/lib/x86_64-linux-gnu/libc.so.6", a.path());
    assertEquals(2, a.pages());
    assertTrue(a.readable() && a.writable() && !a.shared());
  }

  @Test
  void anonymousWithoutPathAndPathsWithSpaces() {
    MappedArea anon = MappedArea.parse("7f9f5c39b000-7f9f5c3bd000 rw-p 00000000 00:00 0 ");
    assertEquals("", anon.path());
    MappedArea noTrailing = MappedArea.parse("7f9f5c39b000-7f9f5c3bd000 rw-p 00000000 00:00 0");
    assertEquals("", noTrailing.path());
    MappedArea spaced = MappedArea.parse("7f9736100000-7f973610a000 r--p 00000000 00:01 1024                       /tmp/my file (deleted)");
    assertEquals("/tmp/my file (deleted)", spaced.path());
    MappedArea vsyscall = MappedArea.parse("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]");
    assertEquals(0xffffffffff600000L, vsyscall.start());
  }

  @Test
  void classifiesLikeCriuDumps() {
    assertEquals(AreaKind.PRIVATE_ANONYMOUS, kind("5571f2648000-5571f2669000 rw-p 00000000 00:00 0                          [heap]"));
    assertEquals(AreaKind.PRIVATE_ANONYMOUS, kind("7ffd3c1e9000-7ffd3c20a000 rw-p 00000000 00:00 0                          [stack]"));
    assertEquals(AreaKind.PRIVATE_ANONYMOUS, kind("7f9f5c39b000-7f9f5c3bd000 rw-p 00000000 00:00 0 "));
    assertEquals(AreaKind.PRIVATE_ANONYMOUS, kind("7f1c2c000000-7f1c2c021000 r--p 00000000 00:00 0 "));
    assertEquals(AreaKind.PRIVATE_FILE, kind("7f9f5c5f2000-7f9f5c5f4000 rw-p 001d3000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6"));
    assertEquals(AreaKind.PRIVATE_FILE, kind("5571da115000-5571da117000 r--p 00000000 fe:00 260131                     /usr/bin/cat"));
    assertEquals(AreaKind.PRIVATE_FILE, kind("7f9f5c445000-7f9f5c59b000 r-xp 00026000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6"));
    assertEquals(AreaKind.VDSO, kind("7ffd3c3f3000-7ffd3c3f5000 r-xp 00000000 00:00 0                          [vdso]"));
    assertEquals(AreaKind.SKIP_VVAR, kind("7f9f5c60d000-7f9f5c611000 r--p 00000000 00:00 0                          [vvar]"));
    assertEquals(AreaKind.SKIP_VVAR, kind("7f9f5c611000-7f9f5c613000 r--p 00000000 00:00 0                          [vvar_vclock]"));
    assertEquals(AreaKind.SKIP_VSYSCALL, kind("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]"));
    assertEquals(AreaKind.SKIP_SHARED, kind("7f9f5c603000-7f9f5c60a000 r--s 00000000 fe:00 338846                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache"));
    assertEquals(AreaKind.SKIP_SHARED, kind("7f9736100000-7f973610a000 rw-s 00000000 00:01 1024                       /memfd:sealed-91173221a7ea (deleted)"));
    assertEquals(AreaKind.SKIP_SHARED, kind("7f2a1c000000-7f2a1c100000 rw-s 00000000 00:01 5                          /dev/zero (deleted)"));
    assertEquals(AreaKind.SKIP_UNREADABLE, kind("7f1c2c021000-7f1c30000000 ---p 00000000 00:00 0 "));
    assertEquals(AreaKind.SKIP_UNREADABLE, kind("5571da117000-5571da11c000 ---p 00002000 fe:00 260131                     /usr/bin/cat"));
  }

  @Test
  void pagesSelectedByPagemapBits() {
    long present = PagemapEntry.PRESENT;
    long swapped = PagemapEntry.SWAPPED;
    long file = PagemapEntry.PRESENT | PagemapEntry.FILE_OR_SHARED;
    assertTrue(AreaKind.PRIVATE_ANONYMOUS.copies(present));
    assertTrue(AreaKind.PRIVATE_ANONYMOUS.copies(swapped));
    assertFalse(AreaKind.PRIVATE_ANONYMOUS.copies(0));
    assertTrue(AreaKind.PRIVATE_FILE.copies(present | PagemapEntry.EXCLUSIVE), "a written (anonymous) page of a file mapping");
    assertFalse(AreaKind.PRIVATE_FILE.copies(file), "page-cache page: restored from the file");
    assertTrue(AreaKind.VDSO.copies(0), "every vdso page, even unmapped");
    assertFalse(AreaKind.SKIP_VVAR.copies(present));
    assertFalse(AreaKind.SKIP_SHARED.copies(present));
  }

  @Test
  void rejectsGarbageNamingTheLine() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MappedArea.parse("hello world"));
    assertTrue(e.getMessage().contains("hello world"));
  }

  @Test
  void parsesThisProcessesMaps() throws Exception {
    List<MappedArea> areas = MapsReader.read((int) ProcessHandle.current().pid());
    assertTrue(areas.stream().anyMatch(a -> AreaKind.of(a) == AreaKind.PRIVATE_ANONYMOUS));
    assertTrue(areas.stream().anyMatch(a -> AreaKind.of(a) == AreaKind.VDSO));
  }
}
