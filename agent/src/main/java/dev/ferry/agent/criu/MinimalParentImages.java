package dev.ferry.agent.criu;

import com.google.protobuf.MessageLite;
import dev.ferry.agent.criu.image.CriuImageFile;
import dev.ferry.agent.criu.image.CriuMagic;
import dev.ferry.agent.memory.PageSize;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.proto.criu.InventoryEntry;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writer of CRIU parent image dirs (see {@link ParentImages}) with the entries of ferry/criu.proto: inventory.img
 * (img_version 2 and dump_uptime), pagemap-<imagePid>.img (head pages_id, then one PE_PRESENT
 * entry per run, sorted by address) and, on the destination, pages-<pages_id>.img with the raw
 * pages in pagemap order. pages_id is 1, 2, ... in process order.
 */
public final class MinimalParentImages implements ParentImages {
  /** inventory_entry.img_version: CRIU_IMAGES_V1_1. */
  private static final int IMAGES_V1_1 = 2;

  /** pagemap_entry.flags: PE_PRESENT (the pages are in this dir's pages image). */
  private static final int PE_PRESENT = 1 << 2;

  @Override
  public void writePages(Path dir, ParentSnapshot snapshot, PageSource pages) throws IOException {
    Files.createDirectories(dir);
    int pagesId = 0;
    for (ParentSnapshot.Process p : snapshot.processes()) {
      try (FileChannel out = FileChannel.open(dir.resolve("pages-" + ++pagesId + ".img"),
          StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        for (AddressRange r : p.runs()) {
          pages.copyTo(p.pid(), r.start(), Math.toIntExact(r.bytes() / PageSize.BYTES), out);
        }
      }
    }
  }

  @Override
  public void writePagemaps(Path dir, ParentSnapshot snapshot) throws IOException {
    Files.createDirectories(dir);
    long uptimeMicros = snapshot.dumpUptime().toNanos() / 1000;
    CriuImageFile.write(dir.resolve("inventory.img"), CriuMagic.INVENTORY,
        List.of(InventoryEntry.newBuilder().setImgVersion(IMAGES_V1_1).setDumpUptime(uptimeMicros).build()));
    int pagesId = 0;
    for (ParentSnapshot.Process p : snapshot.processes()) {
      List<MessageLite> entries = new ArrayList<>(p.runs().size() + 1);
      entries.add(PagemapHead.newBuilder().setPagesId(++pagesId).build());
      for (AddressRange r : p.runs()) {
        entries.add(PagemapEntry.newBuilder()
            .setVaddr(r.start()).setNrPages(Math.toIntExact(r.bytes() / PageSize.BYTES)).setFlags(PE_PRESENT).build());
      }
      CriuImageFile.write(dir.resolve("pagemap-" + p.imagePid() + ".img"), CriuMagic.PAGEMAP, entries);
    }
  }
}
