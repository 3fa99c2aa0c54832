package dev.ferry.agent.transfer;

import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Pages keyed by (pid, address) with their page hash and, optionally, a location (where the
 * destination store keeps the content). Maintains the digest (wrapping sum of page hashes).
 *
 * <p>Memory: chunks of 512 pages (2 MiB of address space), 8 bytes per page for the hash plus 8
 * for the location when tracked: about 1/256 (1/512 without locations) of the memory it
 * describes, allocated only where pages exist.
 *
 * <p>Not thread-safe: owned by one round at a time (the source's round thread, or the store
 * under its lock).
 */
public final class PageTable {
  static final int CHUNK_SHIFT = 21;
  static final int CHUNK_PAGES = 512;

  private final boolean withLocations;
  private final Map<Integer, NavigableMap<Long, Chunk>> byPid = new HashMap<>();
  private long digest;
  private long pages;
  // The chunk of the last put: pages mostly arrive in address order, so most puts skip both map
  // lookups (and the boxing of their keys).
  private int lastPid;
  private long lastKey = -1;
  private Chunk lastChunk;
  /**
   * The chunk the last lookup found (hash, location): the store's round writer and its commit
   * look up every page they store, in address order; without this each lookup boxed its keys
   * into a HashMap and a TreeMap search (profiled at ~10 % of the destination's receiving
   * thread). One immutable object, so a reader never sees a torn (pid, key, chunk). Dropped
   * whenever chunks are removed.
   */
  private Found lastFound;

  private record Found(int pid, long key, Object chunk) {}

  public PageTable(boolean withLocations) {
    this.withLocations = withLocations;
  }

  private final class Chunk {
    final long[] hashes = new long[CHUNK_PAGES];
    final long[] locations = withLocations ? new long[CHUNK_PAGES] : null;
    int used;
  }

  /** Sets the page's hash (and location); returns the previous hash or 0 if it was absent. */
  public long put(int pid, long address, long hash, long location) {
    if (hash == 0) {
      throw new IllegalArgumentException("page hash 0 is reserved");
    }
    long key = address >>> CHUNK_SHIFT;
    Chunk chunk = lastChunk;
    if (chunk == null || key != lastKey || pid != lastPid) {
      chunk = byPid.computeIfAbsent(pid, p -> new TreeMap<>()).computeIfAbsent(key, k -> new Chunk());
      lastChunk = chunk;
      lastKey = key;
      lastPid = pid;
    }
    int slot = slot(address);
    long old = chunk.hashes[slot];
    if (old == 0) {
      chunk.used++;
      pages++;
    }
    chunk.hashes[slot] = hash;
    if (withLocations) {
      chunk.locations[slot] = location;
    }
    digest += hash - old;
    return old;
  }

  /** The page's hash, 0 when absent. */
  public long hash(int pid, long address) {
    Chunk chunk = chunk(pid, address);
    return chunk == null ? 0 : chunk.hashes[slot(address)];
  }

  /** The page's location; only meaningful when {@link #hash} is non-zero. */
  public long location(int pid, long address) {
    Chunk chunk = chunk(pid, address);
    return chunk == null || !withLocations ? 0 : chunk.locations[slot(address)];
  }

  /** The wrapping sum of the hashes of {@code pid}'s pages in [start, end) (what removing them subtracts). */
  public long hashSum(int pid, long start, long end) {
    NavigableMap<Long, Chunk> chunks = byPid.get(pid);
    if (chunks == null || Long.compareUnsigned(start, end) >= 0) {
      return 0;
    }
    long sum = 0;
    for (var e : chunks.subMap(start >>> CHUNK_SHIFT, true, (end - 1) >>> CHUNK_SHIFT, true).entrySet()) {
      long base = e.getKey() << CHUNK_SHIFT;
      long[] hashes = e.getValue().hashes;
      for (int i = 0; i < CHUNK_PAGES; i++) {
        long address = base + (long) i * PageHashing.PAGE;
        if (hashes[i] != 0 && address >= start && address < end) {
          sum += hashes[i];
        }
      }
    }
    return sum;
  }

  /** Drops every page of {@code pid} in [start, end); returns how many were dropped. */
  public long removeRange(int pid, long start, long end) {
    return removeRange(pid, start, end, null);
  }

  /** As {@link #removeRange(int, long, long)}, telling {@code onRemoved} (if not null) each page dropped. */
  public long removeRange(int pid, long start, long end, PageVisitor onRemoved) {
    lastChunk = null; // chunks may be dropped below
    lastFound = null;
    NavigableMap<Long, Chunk> chunks = byPid.get(pid);
    if (chunks == null) {
      return 0;
    }
    long removed = 0;
    long firstKey = start >>> CHUNK_SHIFT;
    long lastKey = (end - 1) >>> CHUNK_SHIFT;
    for (var it = chunks.subMap(firstKey, true, lastKey, true).entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      Chunk chunk = e.getValue();
      long base = e.getKey() << CHUNK_SHIFT;
      for (int i = 0; i < CHUNK_PAGES; i++) {
        long address = base + (long) i * PageHashing.PAGE;
        if (chunk.hashes[i] != 0 && address >= start && address < end) {
          if (onRemoved != null) {
            onRemoved.page(address, chunk.hashes[i], withLocations ? chunk.locations[i] : 0);
          }
          digest -= chunk.hashes[i];
          chunk.hashes[i] = 0;
          chunk.used--;
          pages--;
          removed++;
        }
      }
      if (chunk.used == 0) {
        it.remove();
      }
    }
    if (chunks.isEmpty()) {
      byPid.remove(pid);
    }
    return removed;
  }

  /** Drops every page of {@code pid}. */
  public long removeProcess(int pid) {
    return removeRange(pid, 0, Long.MAX_VALUE);
  }

  public long digest() {
    return digest;
  }

  public long pages() {
    return pages;
  }

  public java.util.Set<Integer> pids() {
    return new java.util.TreeSet<>(byPid.keySet());
  }

  /** Visits the pages of {@code pid} in ascending address order. */
  public void forEach(int pid, PageVisitor visitor) {
    NavigableMap<Long, Chunk> chunks = byPid.get(pid);
    if (chunks == null) {
      return;
    }
    for (var e : chunks.entrySet()) {
      Chunk chunk = e.getValue();
      long base = e.getKey() << CHUNK_SHIFT;
      for (int i = 0; i < CHUNK_PAGES; i++) {
        if (chunk.hashes[i] != 0) {
          visitor.page(base + (long) i * PageHashing.PAGE, chunk.hashes[i], withLocations ? chunk.locations[i] : 0);
        }
      }
    }
  }

  /** One page of a {@link #forEach} walk. */
  @FunctionalInterface
  public interface PageVisitor {
    void page(long address, long hash, long location);
  }

  private Chunk chunk(int pid, long address) {
    long key = address >>> CHUNK_SHIFT;
    Found found = lastFound;
    if (found != null && found.key() == key && found.pid() == pid) {
      return (Chunk) found.chunk();
    }
    NavigableMap<Long, Chunk> chunks = byPid.get(pid);
    Chunk chunk = chunks == null ? null : chunks.get(key);
    if (chunk != null) {
      lastFound = new Found(pid, key, chunk);
    }
    return chunk;
  }

  private static int slot(long address) {
    return (int) ((address >>> 12) & (CHUNK_PAGES - 1));
  }

}
