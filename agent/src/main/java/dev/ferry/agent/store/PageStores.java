package dev.ferry.agent.store;

import dev.ferry.agent.transfer.PageHashing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.DirectoryStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Pattern;

/**
 * The page stores of this agent, one per migration, under {@code <data-dir>/stores/}. Stores left
 * by a previous run of the agent are reopened on first use (or discarded if damaged).
 *
 * <p>Thread-safe.
 */
public final class PageStores implements AutoCloseable {
  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final Path root;
  private final PageHashing hashing;
  private final ConcurrentMap<String, PageStore> open = new ConcurrentHashMap<>();
  private final boolean mirrored;

  public PageStores(Path dataDir, PageHashing hashing) {
    this(dataDir, hashing, false);
  }

  /**
   * @param mirrored the stores also keep their pages laid out as CRIU parent pages images, current
   *     at each commit ({@link PageStore#parentLayout}): for a destination that restores with CRIU
   */
  public PageStores(Path dataDir, PageHashing hashing, boolean mirrored) {
    this.root = dataDir.resolve("stores");
    this.hashing = hashing;
    this.mirrored = mirrored;
  }

  public Path root() {
    return root;
  }

  /** The store's directory; the id must be a plain name (it becomes a directory name). */
  public Path directoryOf(String migrationId) throws StoreException {
    if (!SAFE_ID.matcher(migrationId).matches() || migrationId.contains("..")) {
      throw new StoreException(StoreException.Kind.REJECTED,
          "migration id '" + migrationId + "' is not a plain name (letters, digits, '.', '_', '-')");
    }
    return root.resolve(migrationId);
  }

  /** Result of {@link #openOrCreate}. */
  public record Opened(PageStore store, boolean reopened) {}

  /** The store of {@code migrationId}: the open one, one left on disk by an earlier run, or a new one. */
  public synchronized Opened openOrCreate(String migrationId) throws StoreException {
    PageStore existing = open.get(migrationId);
    if (existing != null) {
      return new Opened(existing, true);
    }
    Path dir = directoryOf(migrationId);
    PageStore store = Files.isDirectory(dir) ? PageStore.reopen(migrationId, dir, hashing, mirrored) : null;
    boolean reopened = store != null;
    if (store == null) {
      store = PageStore.create(migrationId, dir, hashing, mirrored);
    }
    open.put(migrationId, store);
    return new Opened(store, reopened);
  }

  /** The open store of {@code migrationId}. */
  public Optional<PageStore> get(String migrationId) {
    return Optional.ofNullable(open.get(migrationId));
  }

  /** Deletes the store of {@code migrationId}, open or left on disk. Idempotent. */
  public synchronized void discard(String migrationId) throws StoreException {
    PageStore store = open.remove(migrationId);
    if (store != null) {
      store.discard();
      return;
    }
    Path dir = directoryOf(migrationId);
    if (Files.isDirectory(dir)) {
      PageStore.forDeletion(migrationId, dir, hashing).discard();
    }
  }

  /**
   * Deletes the stores an earlier run of the agent left on disk whose migration is not in
   * {@code unfinished} (the coordinators finished it while this agent was down, or it never
   * got a terminal state here): not open in this run, not unfinished. Returns the ids removed.
   */
  public synchronized List<String> discardStale(Set<String> unfinished) throws IOException {
    List<String> removed = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return removed;
    }
    List<String> candidates = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
      dirs.forEach(d -> candidates.add(d.getFileName().toString()));
    }
    for (String id : candidates) {
      if (open.containsKey(id) || unfinished.contains(id)) {
        continue;
      }
      try {
        discard(id);
        removed.add(id);
      } catch (StoreException e) {
        // not a store of ours (a name no migration id can have): leave it
      }
    }
    return removed;
  }

  /** Bytes the open stores' files take on disk (metrics; each store's status is a volatile snapshot). */
  public long bytesOnDisk() {
    return open.values().stream().mapToLong(s -> s.status().bytesOnDisk()).sum();
  }

  /** Pages the open stores hold. */
  public long pagesHeld() {
    return open.values().stream().mapToLong(s -> s.status().pages()).sum();
  }

  /** Free bytes where the stores live (the data dir's file system). */
  public long usableBytes() {
    try {
      Path probe = root;
      while (probe != null && !Files.exists(probe)) {
        probe = probe.getParent();
      }
      return probe == null ? 0 : Files.getFileStore(probe).getUsableSpace();
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public synchronized void close() {
    open.values().forEach(PageStore::close);
    open.clear();
  }
}
