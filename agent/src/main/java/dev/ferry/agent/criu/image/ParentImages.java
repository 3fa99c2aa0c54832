package dev.ferry.agent.criu.image;

import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.StoreException;
import dev.ferry.agent.transfer.AlignedBuffers;
import dev.ferry.agent.transfer.PageHashing;
import dev.ferry.agent.transfer.PageTable;
import dev.ferry.proto.criu.InventoryEntry;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * Writes a CRIU parent image dir for what the destination holds, so that
 * {@code criu dump --track-mem --prev-images-dir} dumps only the pages dirtied since, and
 * {@code criu restore} finds the rest in the parent:
 * {@code inventory.img} (img_version 2, dump_uptime now), {@code pagemap-<PID>.img} (head with
 * pages_id, entries sorted by address with PE_PRESENT) and, on the destination,
 * {@code pages-<id>.img} (the raw pages in pagemap order; all-zero pages written as zeros).
 *
 * <p>{@code imagePid} maps a real pid to the pid CRIU names the image after (the pid inside the
 * dumped pid namespace, e.g. 1 for a workload started with {@code unshare -p -f}).
 */
public final class ParentImages {
  public static final int IMG_VERSION_V1_1 = 2;
  public static final int PE_PRESENT = 1 << 2;

  private ParentImages() {}

  /** What was written. */
  public record Written(int processes, long pages, long pagesBytes) {}

  /** Source side: inventory and pagemaps from the ledger of what the destination holds; no page data. */
  public static Written writeFromLedger(PageTable ledger, Path dir, IntUnaryOperator imagePid) throws IOException {
    Files.createDirectories(dir);
    writeInventory(dir);
    int pagesId = 1;
    long total = 0;
    for (int pid : ledger.pids()) {
      List<PagemapEntry> entries = runs(ledger, pid);
      writePagemap(dir, imagePid.applyAsInt(pid), pagesId++, entries);
      total += entries.stream().mapToLong(PagemapEntry::getNrPages).sum();
    }
    return new Written(ledger.pids().size(), total, 0);
  }

  /** Destination side: inventory, pagemaps and pages from the store. */
  public static Written writeFromStore(PageStore store, Path dir, IntUnaryOperator imagePid) throws IOException, StoreException {
    Files.createDirectories(dir);
    writeInventory(dir);
    int pagesId = 1;
    long total = 0;
    ByteBuffer buffer = AlignedBuffers.allocate(256 * PageHashing.PAGE);
    for (int pid : store.pids()) {
      List<long[]> runs = new ArrayList<>();
      store.forEachPage(pid, (address, hash, location) -> addPage(runs, address));
      List<PagemapEntry> entries = new ArrayList<>();
      int id = pagesId++;
      try (FileChannel out = FileChannel.open(dir.resolve("pages-" + id + ".img"),
          StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        for (long[] run : runs) {
          entries.add(entry(run[0], run[1]));
          for (long i = 0; i < run[1]; i++) {
            if (!buffer.hasRemaining()) {
              drain(buffer, out);
            }
            store.readPage(pid, run[0] + i * PageHashing.PAGE, buffer);
          }
          total += run[1];
        }
        drain(buffer, out);
        out.force(true);
      }
      writePagemap(dir, imagePid.applyAsInt(pid), id, entries);
    }
    return new Written(store.pids().size(), total, total * PageHashing.PAGE);
  }

  /** Microseconds since boot, from /proc/uptime: later than the start of any running process. */
  public static long uptimeMicros() throws IOException {
    String first = Files.readString(Path.of("/proc/uptime")).trim().split("\\s+")[0];
    return new java.math.BigDecimal(first).movePointRight(6).longValue();
  }

  private static void writeInventory(Path dir) throws IOException {
    InventoryEntry inventory = InventoryEntry.newBuilder()
        .setImgVersion(IMG_VERSION_V1_1).setDumpUptime(uptimeMicros()).build();
    CriuImageFile.write(dir.resolve("inventory.img"), CriuMagic.INVENTORY, List.of(inventory));
  }

  private static void writePagemap(Path dir, int imagePid, int pagesId, List<PagemapEntry> entries) throws IOException {
    List<com.google.protobuf.MessageLite> all = new ArrayList<>();
    all.add(PagemapHead.newBuilder().setPagesId(pagesId).build());
    all.addAll(entries);
    CriuImageFile.write(dir.resolve("pagemap-" + imagePid + ".img"), CriuMagic.PAGEMAP, all);
  }

  private static List<PagemapEntry> runs(PageTable ledger, int pid) {
    List<long[]> runs = new ArrayList<>();
    ledger.forEach(pid, (address, hash, location) -> addPage(runs, address));
    List<PagemapEntry> entries = new ArrayList<>(runs.size());
    runs.forEach(r -> entries.add(entry(r[0], r[1])));
    return entries;
  }

  private static void addPage(List<long[]> runs, long address) {
    if (!runs.isEmpty()) {
      long[] last = runs.get(runs.size() - 1);
      if (last[0] + last[1] * PageHashing.PAGE == address && last[1] < Integer.MAX_VALUE) {
        last[1]++;
        return;
      }
    }
    runs.add(new long[] {address, 1});
  }

  private static PagemapEntry entry(long address, long pages) {
    return PagemapEntry.newBuilder().setVaddr(address).setNrPages((int) pages).setFlags(PE_PRESENT).build();
  }

  private static void drain(ByteBuffer buffer, FileChannel out) throws IOException {
    buffer.flip();
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
    buffer.clear();
  }
}
