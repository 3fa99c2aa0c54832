package dev.ferry.agent.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PageTableTest {
  private static final long BASE = 0x7f0000000000L;

  /** Lookups remember the last chunk found: a removed chunk, or another pid's, must never answer. */
  @Test
  void lookupsSeeRemovalsAndRecreatedChunks() {
    PageTable t = new PageTable(true);
    t.put(1, BASE, 11, 100);
    t.put(2, BASE, 22, 200);
    assertEquals(11, t.hash(1, BASE));
    assertEquals(22, t.hash(2, BASE), "same address, other pid");
    assertEquals(100, t.location(1, BASE));
    assertEquals(0, t.hash(1, BASE + 4096), "absent page of a known chunk");

    t.removeRange(1, BASE, BASE + 4096);
    assertEquals(0, t.hash(1, BASE), "removed (its chunk dropped)");
    t.put(1, BASE + 8192, 33, 300); // a new chunk at the same key
    assertEquals(0, t.hash(1, BASE));
    assertEquals(33, t.hash(1, BASE + 8192));
    assertEquals(300, t.location(1, BASE + 8192));

    t.put(1, BASE + 8192, 44, 400); // replaced in place
    assertEquals(44, t.hash(1, BASE + 8192));
    assertEquals(22 + 44, t.digest());
  }
}
