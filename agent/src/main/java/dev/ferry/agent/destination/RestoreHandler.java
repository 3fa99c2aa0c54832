package dev.ferry.agent.destination;

import dev.ferry.agent.store.PageStore;
import dev.ferry.proto.ResumeRestoredReply;
import dev.ferry.proto.RestoreReply;
import io.grpc.Status;
import io.grpc.StatusException;

/**
 * Seam for the switch-over's destination side (dev.ferry.agent.criu): lay out {@code parent/}
 * from the store (ParentImages.writeFromStore) next to the received {@code final/} dir (in
 * {@link PageStore#directory()}), run {@code criu restore}, and later resume or kill the restored
 * process. Called on a worker thread (may block).
 */
public interface RestoreHandler {
  RestoreReply restore(PageStore store) throws StatusException, InterruptedException;

  /**
   * The switch-over began: the source opened the final image stream (and is dumping now). Start
   * what does not need the final images (the parent pages from the store) in the background.
   * Called on a gRPC thread: must not block. No round changes the store any more.
   */
  default void prepare(PageStore store) {}

  ResumeRestoredReply resume(String migrationId) throws StatusException;

  /**
   * After the resume: waits (up to {@code within}) until nothing serves the restored copy from
   * the store any more (CRIU's lazy-pages daemon), before the store is deleted. On a worker.
   */
  default void awaitPagesServed(String migrationId, java.time.Duration within) throws InterruptedException {}

  /** Kills a restored (stopped) copy, if any. Idempotent. */
  void killRestored(String migrationId);

  /** Until the switch-over lands: a clear UNIMPLEMENTED. */
  RestoreHandler NONE = new RestoreHandler() {
    @Override
    public RestoreReply restore(PageStore store) throws StatusException {
      throw Status.UNIMPLEMENTED.withDescription("Restore (CRIU switch-over) is not available in this agent build").asException();
    }

    @Override
    public ResumeRestoredReply resume(String migrationId) throws StatusException {
      throw Status.UNIMPLEMENTED.withDescription("ResumeRestored (CRIU switch-over) is not available in this agent build").asException();
    }

    @Override
    public void killRestored(String migrationId) {}
  };
}
