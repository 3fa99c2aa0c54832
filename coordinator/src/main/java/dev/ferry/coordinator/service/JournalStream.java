package dev.ferry.coordinator.service;

import dev.ferry.coordinator.zk.MigrationStore;
import dev.ferry.coordinator.zk.StoreException;
import dev.ferry.proto.MigrationEvent;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WatchMigration stream: the migration's journal from a cursor (0 with replay, else the
 * current end), then live events until the {@code finished} one. Events are read from ZooKeeper
 * one at a time while the client is ready (gRPC flow control: nothing is buffered beyond one
 * event), and a one-shot watch on the state znode wakes the stream when the state moves on. Works
 * the same on the leader and on followers.
 *
 * <p>Thread confinement: {@link #pump} runs on the worker executor, one at a time (the
 * {@code pumping} flag); the watch and the onReady handler only schedule it.
 */
final class JournalStream {
  private static final Logger log = LoggerFactory.getLogger(JournalStream.class);

  private final MigrationStore store;
  private final CuratorFramework zk;
  private final String id;
  private final ServerCallStreamObserver<MigrationEvent> out;
  private final Executor executor;
  private final AtomicBoolean pumping = new AtomicBoolean();
  private final AtomicBoolean rerun = new AtomicBoolean();
  private volatile boolean closed;
  private long cursor;

  JournalStream(MigrationStore store, CuratorFramework zk, String id, long cursor,
      ServerCallStreamObserver<MigrationEvent> out, Executor executor) {
    this.store = store;
    this.zk = zk;
    this.id = id;
    this.cursor = cursor;
    this.out = out;
    this.executor = executor;
  }

  /** Starts pumping; the caller registered the call's handlers (see {@link #ready}, {@link #cancelled}). */
  void start() {
    schedule();
  }

  /** The call's onReady handler: the client can take more. */
  void ready() {
    schedule();
  }

  /** The call's onCancel handler: the client went away. */
  void cancelled() {
    closed = true;
  }

  private void schedule() {
    rerun.set(true);
    if (!closed && pumping.compareAndSet(false, true)) {
      executor.execute(this::pump);
    }
  }

  private void pump() {
    try {
      while (!closed && rerun.getAndSet(false)) {
        sendWhileReady();
      }
    } catch (StoreException e) {
      fail(Status.UNAVAILABLE.withDescription(e.getMessage()));
    } catch (RuntimeException e) {
      log.warn("watch of {} failed", id, e);
      fail(Status.INTERNAL.withDescription("watch failed: " + e));
    } finally {
      pumping.set(false);
    }
    if (!closed && rerun.get()) {
      schedule();
    }
  }

  private void sendWhileReady() throws StoreException {
    while (!closed && out.isReady()) {
      Optional<MigrationEvent> next = store.event(id, cursor);
      if (next.isEmpty()) {
        armWatch();
        // an event written between the read and the watch would be missed: look once more
        if (store.event(id, cursor).isEmpty()) {
          return;
        }
        continue;
      }
      MigrationEvent e = next.get();
      out.onNext(e);
      cursor++;
      if (e.hasFinished()) {
        closed = true;
        out.onCompleted();
        return;
      }
    }
  }

  private void armWatch() throws StoreException {
    try {
      zk.getData().usingWatcher((org.apache.curator.framework.api.CuratorWatcher) event -> schedule())
          .forPath(store.layout().state(id));
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new StoreException(StoreException.Kind.UNAVAILABLE, "ZooKeeper: watching " + id + " failed: " + e, e);
    }
  }

  private void fail(Status status) {
    if (!closed) {
      closed = true;
      try {
        out.onError(status.asRuntimeException());
      } catch (IllegalStateException e) {
        log.debug("stream of {} already closed", id);
      }
    }
  }
}
