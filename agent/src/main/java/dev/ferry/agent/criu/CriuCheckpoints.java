package dev.ferry.agent.criu;

import dev.ferry.agent.source.CheckpointHandler;
import dev.ferry.agent.source.SourceMigration;
import dev.ferry.agent.tracking.AddressRange;
import dev.ferry.agent.tracking.AddressRuns;
import dev.ferry.agent.transfer.PageTable;
import dev.ferry.proto.CheckpointReply;
import dev.ferry.proto.CheckpointRequest;
import io.grpc.Status;
import io.grpc.StatusException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source agent's switch-over through CRIU: the parent for what the destination holds (the
 * migration's ledger), {@code criu dump --track-mem --prev-images-dir --leave-stopped}, and the
 * final images pushed to the destination over the page stream channel.
 *
 * <p>Invariant: a failed checkpoint (CRIU or push) leaves the process running; a successful one
 * leaves it stopped and remembered here (by migration id) until {@link #resume} (rollback) or
 * {@link #kill} (after the commit). The dumped identity (pid + start time) guards against a pid
 * reused meanwhile. Thread-safe: checkpoints of one migration are serialized by its round permit.
 */
public final class CriuCheckpoints implements CheckpointHandler {
  private static final Logger log = LoggerFactory.getLogger(CriuCheckpoints.class);

  private final Checkpointer checkpointer;
  private final Path workRoot;
  private final ConcurrentMap<String, ProcessTree.Identity> dumped = new ConcurrentHashMap<>();
  /** Dumps started ahead (see {@link HeldDump}), by migration; taken by the checkpoint. */
  private final ConcurrentMap<String, Ahead> warm = new ConcurrentHashMap<>();

  /**
   * A held dump and the parent written into its work dir after the round before {@code nextRound},
   * when the ledger had {@code ledgerPages} pages and digest {@code ledgerDigest}. The ledger
   * changes only in rounds (a failed one included), so while all three still match, {@code parent}
   * is what the destination holds. {@code parent} null: not written.
   */
  private record Ahead(HeldDump dump, ParentSnapshot parent, int nextRound, long ledgerPages, long ledgerDigest) {
    boolean parentCurrent(SourceMigration m) {
      return parent != null && nextRound == m.nextRound() && ledgerPages == m.ledger().pages() && ledgerDigest == m.ledger().digest();
    }
  }
  /** How long a held dump waits for its switch-over before it gives up (the next round starts another). */
  static final Duration MAX_HOLD = Duration.ofMinutes(15);

  /** @param workRoot where each migration's {@code <id>/parent} and {@code <id>/final} are written */
  public CriuCheckpoints(Checkpointer checkpointer, Path workRoot) {
    this.checkpointer = checkpointer;
    this.workRoot = workRoot;
  }

  /**
   * Starts the migration's dump ahead, held before it touches the process, unless one still waits:
   * the checkpoint then skips CRIU's start-up (seconds in the lab) between the last round and the
   * freeze, and the final dump shrinks by what the process writes meanwhile.
   */
  @Override
  public void roundDone(SourceMigration migration) {
    String id = migration.id();
    Ahead current = warm.get(id);
    HeldDump dump = current == null ? null : current.dump();
    if (dump != null && !dump.alive()) {
      log.warn("migration {}: the criu dump held ahead ended by itself; starting another: {}", id, dump.outputTail());
      dump = null;
    }
    try {
      if (dump == null) {
        dump = checkpointer.hold(migration.pid(), workRoot.resolve(id), MAX_HOLD);
      }
    } catch (CriuFailure e) {
      log.warn("migration {}: could not start criu dump ahead ({}); the checkpoint will start it then", id, e.getMessage());
      return;
    }
    // The parent for what the destination holds now, written while the dump waits: if this round
    // was the last, nothing is left to write between the checkpoint and the freeze.
    ParentSnapshot parent = null;
    try {
      parent = snapshot(migration.ledger(), BootClock.uptime());
      checkpointer.writeParent(dump.workDir(), parent);
    } catch (IOException | CriuFailure e) {
      parent = null;
      log.info("migration {}: parent images not written ahead ({}); the checkpoint writes them", id, e.getMessage());
    }
    PageTable ledger = migration.ledger();
    Ahead previous = warm.put(id, new Ahead(dump, parent, migration.nextRound(), ledger.pages(), ledger.digest()));
    if (previous != null && previous.dump() != dump) {
      previous.dump().abort();
    }
    if (migration.closed()) { // stopTracking ran meanwhile (it closes, then ends: see migrationEnded)
      migrationEnded(id);
    }
  }

  @Override
  public void migrationEnded(String migrationId) {
    Ahead a = warm.remove(migrationId);
    if (a != null) {
      HeldDump h = a.dump();
      h.abort();
      try {
        Restorer.deleteTree(h.workDir());
      } catch (IOException e) {
        log.debug("migration {}: could not delete {}: {}", migrationId, h.workDir(), e.toString());
      }
    }
  }

  @Override
  public CheckpointReply checkpoint(SourceMigration migration, CheckpointRequest request)
      throws StatusException, InterruptedException {
    Ahead ahead = warm.remove(migration.id());
    if (ahead != null && !ahead.dump().alive()) {
      ahead.dump().abort();
      ahead = null;
    }
    try {
      return checkpoint(migration, ahead);
    } finally {
      if (ahead != null) {
        ahead.dump().abort(); // a no-op once released; ends it if the checkpoint failed before the release
      }
    }
  }

  private CheckpointReply checkpoint(SourceMigration migration, Ahead ahead) throws StatusException, InterruptedException {
    String id = migration.id();
    Path work = workRoot.resolve(id);
    boolean parentWritten = ahead != null && ahead.parentCurrent(migration);
    ParentSnapshot held;
    if (parentWritten) {
      held = ahead.parent();
    } else {
      try {
        if (ahead == null) {
          Restorer.deleteTree(work); // an earlier, failed attempt
        }
        // Right before the dump: the image pids (NSpid) and the uptime are read now.
        held = snapshot(migration.ledger(), BootClock.uptime());
      } catch (IOException e) {
        throw Status.FAILED_PRECONDITION.withDescription("migration " + id + ": cannot prepare the checkpoint of pid "
            + migration.pid() + ": " + e.getMessage() + " (the process was not stopped)").asException();
      }
    }
    // The image stream opens first: its header tells the destination to lay out its parent pages
    // (its bulk of the restore work) while CRIU dumps here.
    Checkpointer.Result[] dump = new Checkpointer.Result[1];
    CriuFailure[] failure = new CriuFailure[1];
    ParentSnapshot parent = held;
    HeldDump warmDump = ahead == null ? null : ahead.dump();
    try {
      migration.pushImages(work.resolve("final"), () -> {
        try {
          dump[0] = checkpointer.checkpoint(migration.pid(), work, parent, warmDump, parentWritten);
          dumped.put(id, dump[0].dumped());
          log.info("migration {}: pid {} dumped in {} ms: {}", id, dump[0].dumped().pid(), dump[0].dumpTime().toMillis(),
              dump[0].detail());
          return true;
        } catch (CriuFailure f) {
          failure[0] = f;
          return false;
        }
      });
    } catch (StatusException e) {
      if (dump[0] == null) { // the stream failed before the dump: the process was never stopped
        throw e;
      }
      resumeAfterFailedPush(id, dump[0]);
      Status s = e.getStatus();
      throw s.withDescription("migration " + id + ": pushing the final images to the destination failed ("
          + s.getDescription() + "); process " + dump[0].dumped().pid() + " resumed").asException();
    } catch (InterruptedException | RuntimeException e) {
      if (dump[0] != null) {
        resumeAfterFailedPush(id, dump[0]);
      }
      throw e;
    }
    if (failure[0] != null) { // Checkpointer resumed the process
      log.warn("migration {}: checkpoint of pid {} failed, process resumed: {}", id, migration.pid(), failure[0].describe());
      throw failure[0].toStatus().asException();
    }
    Checkpointer.Result r = dump[0];
    try {
      Restorer.deleteTree(work); // the images are at the destination now
    } catch (IOException e) {
      log.warn("migration {}: could not delete {}: {}", id, work, e.toString());
    }
    return CheckpointReply.newBuilder()
        .setFreezeStartedUnixMillis(r.freezeStarted().toEpochMilli())
        .setDumpMicros(TimeUnit.NANOSECONDS.toMicros(r.dumpTime().toNanos()))
        .setFinalImagesBytes(r.finalImageBytes())
        .setPagesSkippedParent(r.stats().pagesSkippedParent())
        .setPagesWritten(r.stats().pagesWritten())
        .setParentUsed(r.parentUsed())
        .setDetail(r.detail())
        .setDumpedPid(r.dumped().pid())
        .build();
  }

  private void resumeAfterFailedPush(String id, Checkpointer.Result r) {
    dumped.remove(id);
    checkpointer.resume(r.dumped());
    log.warn("migration {}: final images not delivered, pid {} resumed", id, r.dumped().pid());
  }

  @Override
  public Optional<Boolean> resume(String migrationId) {
    ProcessTree.Identity d = dumped.remove(migrationId);
    return d == null ? Optional.empty() : Optional.of(checkpointer.resume(d));
  }

  @Override
  public Optional<Boolean> kill(String migrationId) {
    ProcessTree.Identity d = dumped.remove(migrationId);
    return d == null ? Optional.empty() : Optional.of(checkpointer.kill(d));
  }

  /**
   * The ledger as a CRIU parent: per tracked pid (ascending) its pages merged into runs, the image
   * pid read from /proc now. Round thread only (the ledger's confinement).
   */
  static ParentSnapshot snapshot(PageTable ledger, java.time.Duration dumpUptime) throws IOException {
    List<ParentSnapshot.Process> processes = new ArrayList<>();
    for (int pid : ledger.pids()) {
      AddressRuns pages = new AddressRuns();
      ledger.forEach(pid, (address, hash, location) -> pages.add(address));
      List<AddressRange> runs = pages.ranges();
      int imagePid = ProcessTree.innermostPid(pid)
          .orElseThrow(() -> new IOException("process " + pid + " vanished before the checkpoint"));
      processes.add(new ParentSnapshot.Process(pid, imagePid, runs));
    }
    return new ParentSnapshot(dumpUptime, processes);
  }
}
