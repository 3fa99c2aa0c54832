package dev.ferry.agent.transfer;

import dev.ferry.agent.store.PageStore;
import dev.ferry.agent.store.PageStores;
import dev.ferry.proto.ImageChunk;
import dev.ferry.proto.ImageHeader;
import dev.ferry.proto.ImageStreamMessage;
import dev.ferry.proto.ImageTrailer;
import dev.ferry.proto.ImagesAck;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives the final CRIU image dir of a migration into {@code <store>/final} (written as
 * {@code final.tmp} and renamed when the trailer's counts match, so a half-received dir never
 * looks complete). Chunk CRC mismatch: DATA_LOSS. Callbacks are serialized by gRPC.
 */
final class ImageReceiver implements StreamObserver<ImageStreamMessage> {
  private static final Logger log = LoggerFactory.getLogger(ImageReceiver.class);

  private final ServerCallStreamObserver<ImagesAck> call;
  private final PageStores stores;
  private final StreamTokens tokens;
  private Path tmp;
  private Path target;
  private final Set<String> files = new HashSet<>();
  private long bytes;
  private boolean done;

  private final java.util.function.Consumer<PageStore> headerReceived;
  private final dev.ferry.agent.metrics.AgentMetrics metrics;

  ImageReceiver(ServerCallStreamObserver<ImagesAck> call, PageStores stores, StreamTokens tokens,
      java.util.function.Consumer<PageStore> headerReceived, dev.ferry.agent.metrics.AgentMetrics metrics) {
    this.call = call;
    this.metrics = metrics;
    this.stores = stores;
    this.tokens = tokens;
    this.headerReceived = headerReceived;
  }

  @Override
  public void onNext(ImageStreamMessage message) {
    if (done) {
      return;
    }
    try {
      switch (message.getKindCase()) {
        case HEADER -> onHeader(message.getHeader());
        case CHUNK -> onChunk(message.getChunk());
        case TRAILER -> onTrailer(message.getTrailer());
        default -> throw Status.INVALID_ARGUMENT.withDescription("empty image stream message").asRuntimeException();
      }
      if (!done) {
        call.request(1);
      }
    } catch (StatusRuntimeException e) {
      fail(e.getStatus());
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage());
      Status s = m.contains("No space left") ? Status.RESOURCE_EXHAUSTED : Status.INTERNAL;
      fail(s.withDescription("writing final images to " + tmp + ": " + e));
    }
  }

  private void onHeader(ImageHeader h) throws IOException {
    Optional<Status> refused = tokens.refusal(h.getMigrationId(), h.getStreamToken());
    if (refused.isPresent()) {
      throw refused.get().asRuntimeException();
    }
    PageStore store = stores.get(h.getMigrationId()).orElseThrow(() -> Status.FAILED_PRECONDITION
        .withDescription("migration " + h.getMigrationId() + " has no open page store here").asRuntimeException());
    target = store.directory().resolve("final");
    tmp = store.directory().resolve("final.tmp");
    deleteTree(tmp);
    Files.createDirectories(tmp);
    headerReceived.accept(store);
  }

  private void onChunk(ImageChunk chunk) throws IOException {
    if (tmp == null) {
      throw Status.INVALID_ARGUMENT.withDescription("the first image stream message must be an ImageHeader").asRuntimeException();
    }
    String name = chunk.getFileName();
    if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..") || name.contains("\0")) {
      throw Status.INVALID_ARGUMENT.withDescription("image file name '" + name + "' is not a plain file name").asRuntimeException();
    }
    CRC32C crc = new CRC32C();
    ByteBuffer data = chunk.getData().asReadOnlyByteBuffer();
    crc.update(data.duplicate());
    if ((int) crc.getValue() != chunk.getCrc32C()) {
      throw Status.DATA_LOSS.withDescription("image " + name + " at offset " + chunk.getOffset() + ": CRC32C mismatch").asRuntimeException();
    }
    try (FileChannel out = FileChannel.open(tmp.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      long at = chunk.getOffset();
      while (data.hasRemaining()) {
        at += out.write(data, at);
      }
    }
    files.add(name);
    bytes += chunk.getData().size();
  }

  private void onTrailer(ImageTrailer trailer) throws IOException {
    if (tmp == null) {
      throw Status.INVALID_ARGUMENT.withDescription("image trailer before header").asRuntimeException();
    }
    if (trailer.getFiles() != files.size() || trailer.getBytes() != bytes) {
      throw Status.DATA_LOSS.withDescription(String.format("final images: the source sent %d files / %d bytes, %d / %d arrived",
          trailer.getFiles(), trailer.getBytes(), files.size(), bytes)).asRuntimeException();
    }
    // On disk before the rename: a crash leaves either no final/ or a complete one.
    try (var list = Files.list(tmp)) {
      for (Path f : list.toList()) {
        try (FileChannel c = FileChannel.open(f, StandardOpenOption.WRITE)) {
          c.force(true);
        }
      }
    }
    deleteTree(target);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel d = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
      d.force(true);
    }
    done = true;
    metrics.imagesReceived(bytes);
    call.onNext(ImagesAck.newBuilder().setFiles(files.size()).setBytes(bytes).build());
    call.onCompleted();
  }

  private void fail(Status status) {
    done = true;
    cleanup();
    log.warn("final image stream refused: {} {}", status.getCode(), status.getDescription());
    call.onError(status.asRuntimeException());
  }

  private void cleanup() {
    try {
      if (tmp != null) {
        deleteTree(tmp);
      }
    } catch (IOException e) {
      log.warn("could not delete {}: {}", tmp, e.toString());
    }
  }

  @Override
  public void onError(Throwable t) {
    done = true;
    cleanup();
  }

  @Override
  public void onCompleted() {
    if (!done) {
      fail(Status.FAILED_PRECONDITION.withDescription("the image stream ended without an ImageTrailer"));
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
