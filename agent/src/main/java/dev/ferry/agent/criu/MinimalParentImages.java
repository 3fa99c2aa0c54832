package dev.ferry.agent.criu;

import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.proto.criu.InventoryEntry;
import dev.ferry.proto.criu.PagemapEntry;
import dev.ferry.proto.criu.PagemapHead;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
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

  @Override
  public void writePages(Path dir, ParentSnapshot snapshot, PageSource pages) throws IOException {
    Files.createDirectories(dir);
    int pagesId = 0;
    for (ParentSnapshot.Process p : snapshot.processes()) {
      try (FileChannel out = FileChannel.open(dir.resolve("pages-" + ++pagesId + ".img"),
          StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        for (AddressRange r : p.runs()) {
          pages.copyTo(p.pid(), r.start(), Math.toIntExact(r.bytes() / CriuImageFormat.PAGE_SIZE), out);
        }
      }
    }
  }

  @Override
  public void writePagemaps(Path dir, ParentSnapshot snapshot) throws IOException {
    Files.createDirectories(dir);
    long uptimeMicros = snapshot.dumpUptime().toNanos() / 1000;
    try (OutputStream out = Files.newOutputStream(dir.resolve("inventory.img"))) {
      out.write(CriuImageFormat.magics(CriuImageFormat.MAGIC_INVENTORY));
      out.write(CriuImageFormat.entry(InventoryEntry.newBuilder()
          .setImgVersion(CriuImageFormat.IMAGES_V1_1).setDumpUptime(uptimeMicros).build()));
    }
    int pagesId = 0;
    for (ParentSnapshot.Process p : snapshot.processes()) {
      int id = ++pagesId;
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(dir.resolve("pagemap-" + p.imagePid() + ".img")), 1 << 16)) {
        out.write(CriuImageFormat.magics(CriuImageFormat.MAGIC_IMG_COMMON, CriuImageFormat.MAGIC_PAGEMAP));
        out.write(CriuImageFormat.entry(PagemapHead.newBuilder().setPagesId(id).build()));
        for (AddressRange r : p.runs()) {
          int count = Math.toIntExact(r.bytes() / CriuImageFormat.PAGE_SIZE);
          out.write(CriuImageFormat.entry(PagemapEntry.newBuilder()
              .setVaddr(r.start()).setNrPages(count).setFlags(CriuImageFormat.PE_PRESENT).build()));
        }
      }
    }
  }
}
