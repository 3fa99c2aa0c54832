package dev.ferry.agent.criu;

import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.RoundWriter;
import dev.ferry.agent.store.StoreException;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.CapturedRound;
import dev.ferry.agent.tracking.CopyFigures;
import dev.ferry.agent.tracking.PageSink;
import dev.ferry.agent.tracking.PrecopySession;
import dev.ferry.agent.tracking.ProcessLayout;
import dev.ferry.agent.tracking.TrackingException;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.ProcessAreas;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Pre-copy rounds on one host, without the network: the engine's session captures and copies
 * straight into a destination {@link PageStore}, and {@link HeldPages} records what the store
 * holds. For the switch-over lab test and the downtime benchmark, which measure the CRIU steps
 * without gRPC JVMs (each costs tens of seconds in the emulated lab). Confined to one thread.
 */
public final class LocalPrecopy {
  private final PrecopySession session;
  private final PageStore store;
  private final HeldPages held = new HeldPages();

  public LocalPrecopy(PrecopySession session, PageStore store) {
    this.session = session;
    this.store = store;
  }

  /** One round's figures. */
  public record Round(int round, long dirtyPages, long zeroPages, Duration freezeWindow, Duration copyTime, Duration roundTime) {}

  public HeldPages held() {
    return held;
  }

  /** Captures, copies into the store, commits. */
  public Round round() throws TrackingException, InterruptedException, StoreException {
    long t0 = System.nanoTime();
    CapturedRound captured = session.capture();
    List<ProcessAreas> areas = new ArrayList<>();
    for (ProcessLayout p : captured.processes()) {
      ProcessAreas.Builder b = ProcessAreas.newBuilder().setPid(p.pid());
      p.areas().forEach(a -> b.addAreas(range(a)));
      p.removed().forEach(a -> b.addRemoved(range(a)));
      areas.add(b.build());
    }
    held.layout(captured.processes());
    RoundWriter writer = store.beginRound(captured.round(), areas);
    long[] counts = new long[2]; // batches, pages
    List<long[]> sent = new ArrayList<>(); // {pid, address, pages}: held only once committed
    PageSink sink = new PageSink() {
      @Override
      public void pages(int pid, long address, int pages, ByteBuffer data) throws IOException {
        apply(pid, PageRun.newBuilder().setAddress(address).setPages(pages).build(), data);
      }

      @Override
      public void zeroPages(int pid, long address, int pages) throws IOException {
        apply(pid, PageRun.newBuilder().setAddress(address).setPages(pages).setZero(true).build(), ByteBuffer.allocate(0));
      }

      private void apply(int pid, PageRun run, ByteBuffer data) throws IOException {
        try {
          writer.apply(pid, List.of(run), data);
        } catch (StoreException e) {
          throw new IOException(e.getMessage(), e);
        }
        counts[0]++;
        counts[1] += run.getPages();
        sent.add(new long[] {pid, run.getAddress(), run.getPages()});
      }
    };
    CopyFigures figures;
    try {
      figures = captured.copy(sink);
      writer.commit(counts[0], counts[1]);
      sent.forEach(s -> held.add((int) s[0], s[1], (int) s[2]));
    } catch (TrackingException | InterruptedException | StoreException | RuntimeException e) {
      writer.abort();
      throw e;
    }
    return new Round(captured.round(), figures.dirtyPages(), figures.zeroPages(), captured.freezeWindow(),
        figures.copyTime(), Duration.ofNanos(System.nanoTime() - t0));
  }

  private static dev.ferry.proto.AddressRange range(AddressRange r) {
    return dev.ferry.proto.AddressRange.newBuilder().setStart(r.start()).setEnd(r.end()).build();
  }
}
