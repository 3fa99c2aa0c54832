package dev.ferry.agent.destination;

import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.agent.store.StoreException;
import dev.ferry.agent.transfer.StoreStatuses;
import dev.ferry.agent.transfer.StreamTokens;
import dev.ferry.proto.DestinationAgentGrpc;
import dev.ferry.proto.DiscardReply;
import dev.ferry.proto.MigrationRef;
import dev.ferry.proto.PrepareReceiveReply;
import dev.ferry.proto.PrepareReceiveRequest;
import dev.ferry.proto.RestoreReply;
import dev.ferry.proto.ResumeRestoredReply;
import dev.ferry.proto.StoreStatusReply;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The DestinationAgent service: page stores and (through the seam) restore. */
public final class DestinationAgentService extends DestinationAgentGrpc.DestinationAgentImplBase {
  private static final Logger log = LoggerFactory.getLogger(DestinationAgentService.class);

  private final PageStores stores;
  /** Shortest stream token PrepareReceive arms (dev.ferry.service.auth.StreamToken.generate() makes 32 bytes). */
  public static final int MIN_TOKEN_BYTES = 16;

  private final StreamTokens tokens;
  private final RestoreHandler restores;
  private final ExecutorService workers;

  public DestinationAgentService(PageStores stores, StreamTokens tokens, RestoreHandler restores, ExecutorService workers) {
    this.stores = stores;
    this.tokens = tokens;
    this.restores = restores;
    this.workers = workers;
  }

  @Override
  public void prepareReceive(PrepareReceiveRequest request, StreamObserver<PrepareReceiveReply> response) {
    String id = request.getMigrationId();
    try {
      if (request.getStreamToken().size() < MIN_TOKEN_BYTES) {
        // A short token is guessable by any agent certificate holder; the coordinator issues 32 random bytes.
        throw Status.INVALID_ARGUMENT.withDescription("stream_token must be at least " + MIN_TOKEN_BYTES
            + " random bytes, got " + request.getStreamToken().size()).asException();
      }
      long free = stores.usableBytes();
      if (request.getExpectedBytes() > 0 && request.getExpectedBytes() > free) {
        throw Status.FAILED_PRECONDITION.withDescription(String.format(
            "migration %s needs about %d MiB but only %d MiB are free under %s",
            id, request.getExpectedBytes() >> 20, free >> 20, stores.root())).asException();
      }
      PageStores.Opened opened = stores.openOrCreate(id);
      tokens.arm(id, request.getStreamToken(), request.getSourceHost());
      log.info("migration {}: ready to receive from {} ({} store, {} pages)", id, request.getSourceHost(),
          opened.reopened() ? "reopened" : "new", opened.store().status().pages());
      response.onNext(PrepareReceiveReply.newBuilder().setReopened(opened.reopened())
          .setPagesHeld(opened.store().status().pages()).build());
      response.onCompleted();
    } catch (StoreException e) {
      response.onError(StoreStatuses.of(e).asException());
    } catch (StatusException e) {
      response.onError(e);
    }
  }

  @Override
  public void storeStatus(MigrationRef request, StreamObserver<StoreStatusReply> response) {
    PageStore store = stores.get(request.getMigrationId()).orElse(null);
    if (store == null) {
      response.onError(Status.NOT_FOUND.withDescription("no page store for migration " + request.getMigrationId() + " is open here").asException());
      return;
    }
    PageStore.Status s = store.status();
    response.onNext(StoreStatusReply.newBuilder().setPages(s.pages()).setBytesOnDisk(s.bytesOnDisk())
        .setDigest(s.digestHex()).setLastRound(s.lastRound()).build());
    response.onCompleted();
  }

  @Override
  public void discard(MigrationRef request, StreamObserver<DiscardReply> response) {
    String id = request.getMigrationId();
    try {
      restores.killRestored(id);
      tokens.disarm(id);
      stores.discard(id);
      log.info("migration {}: page store discarded", id);
      response.onNext(DiscardReply.getDefaultInstance());
      response.onCompleted();
    } catch (StoreException e) {
      response.onError(StoreStatuses.of(e).asException());
    }
  }

  @Override
  public void restore(MigrationRef request, StreamObserver<RestoreReply> response) {
    // From the switch-over on, no page or image stream may change the store: a replayed or late
    // stream after restore (and the commit that follows) is refused as an unarmed token.
    tokens.disarm(request.getMigrationId());
    PageStore store = stores.get(request.getMigrationId()).orElse(null);
    if (store == null) {
      response.onError(Status.NOT_FOUND.withDescription("no page store for migration " + request.getMigrationId()).asException());
      return;
    }
    workers.execute(Context.current().wrap(() -> {
      try {
        response.onNext(restores.restore(store));
        response.onCompleted();
      } catch (StatusException e) {
        response.onError(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        response.onError(Status.CANCELLED.withDescription("interrupted").asException());
      }
    }));
  }

  @Override
  public void resumeRestored(MigrationRef request, StreamObserver<ResumeRestoredReply> response) {
    try {
      response.onNext(restores.resume(request.getMigrationId()));
      response.onCompleted();
    } catch (StatusException e) {
      response.onError(e);
    }
  }
}
