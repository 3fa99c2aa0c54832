package dev.ferry.agent.transfer;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.ferry.agent.transport.AgentTransport;
import dev.ferry.proto.ImageChunk;
import dev.ferry.proto.ImageHeader;
import dev.ferry.proto.ImageStreamMessage;
import dev.ferry.proto.ImageTrailer;
import dev.ferry.proto.ImagesAck;
import dev.ferry.proto.PageStreamGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32C;

/**
 * Sends the regular files of a CRIU image dir to the destination's PushImages, 1 MiB chunks with
 * a CRC32C each, respecting isReady() (bounded in flight). Blocks the calling thread; call it
 * from a worker, not a gRPC thread.
 */
public final class ImagePusher {
  private static final int CHUNK = 1024 * 1024;

  private ImagePusher() {}

  public static ImagesAck push(AgentTransport transport, ManagedChannel channel, String migrationId, ByteString token,
      Path dir, Duration ackTimeout) throws StatusException, InterruptedException {
    return push(transport, channel, migrationId, token, dir, ackTimeout, () -> true);
  }

  /**
   * Produces the image dir once the stream is open. Returns false when there is nothing to send
   * (the stream is then cancelled and {@link #push} returns null).
   */
  @FunctionalInterface
  public interface Producer {
    boolean produce() throws InterruptedException;
  }

  /**
   * As {@link #push(AgentTransport, ManagedChannel, String, ByteString, Path, Duration)}, but the
   * stream's header goes out first and {@code producer} writes {@code dir} afterwards: the header
   * tells the destination the final images are coming, so it can lay out the parent pages while
   * the source dumps. Returns null when the producer gave up.
   */
  public static ImagesAck push(AgentTransport transport, ManagedChannel channel, String migrationId, ByteString token,
      Path dir, Duration ackTimeout, Producer producer) throws StatusException, InterruptedException {
    CompletableFuture<ImagesAck> result = new CompletableFuture<>();
    Object ready = new Object();
    ClientCallStreamObserver<ImageStreamMessage>[] holder = new ClientCallStreamObserver[1];
    transport.forPageStream(PageStreamGrpc.newStub(channel)).pushImages(new ClientResponseObserver<ImageStreamMessage, ImagesAck>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<ImageStreamMessage> stream) {
        holder[0] = stream;
        stream.setOnReadyHandler(() -> {
          synchronized (ready) {
            ready.notifyAll();
          }
        });
      }

      @Override
      public void onNext(ImagesAck value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
        synchronized (ready) {
          ready.notifyAll();
        }
      }

      @Override
      public void onCompleted() {
        result.complete(null);
      }
    });
    ClientCallStreamObserver<ImageStreamMessage> stream = holder[0];
    try {
      send(stream, ready, result, ImageStreamMessage.newBuilder().setHeader(
          ImageHeader.newBuilder().setMigrationId(migrationId).setStreamToken(token)).build());
      boolean produced = false;
      try {
        produced = producer.produce();
      } finally {
        if (!produced) {
          stream.cancel("the source produced no images (its checkpoint failed)", null);
        }
      }
      if (!produced) {
        return null;
      }
      ByteBuffer buffer = AlignedBuffers.allocate(CHUNK);
      int files = 0;
      long bytes = 0;
      List<Path> regular;
      try (var list = Files.list(dir)) {
        regular = list.filter(Files::isRegularFile).sorted().toList();
      }
      for (Path file : regular) {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
          long offset = 0;
          do {
            buffer.clear();
            int n = Math.max(0, in.read(buffer, offset));
            buffer.flip();
            CRC32C crc = new CRC32C();
            crc.update(buffer.duplicate());
            send(stream, ready, result, ImageStreamMessage.newBuilder().setChunk(ImageChunk.newBuilder()
                .setFileName(file.getFileName().toString()).setOffset(offset)
                .setData(UnsafeByteOperations.unsafeWrap(buffer)).setCrc32C((int) crc.getValue())).build());
            offset += n;
            bytes += n;
          } while (offset < in.size());
        }
        files++;
      }
      send(stream, ready, result, ImageStreamMessage.newBuilder().setTrailer(ImageTrailer.newBuilder().setFiles(files).setBytes(bytes)).build());
      stream.onCompleted();
      ImagesAck ack = result.get(ackTimeout.toNanos(), TimeUnit.NANOSECONDS);
      if (ack == null) {
        throw Status.INTERNAL.withDescription("the destination closed the image stream without an acknowledgement").asException();
      }
      return ack;
    } catch (IOException e) {
      stream.cancel("reading images failed", e);
      throw Status.FAILED_PRECONDITION.withDescription("reading the image dir " + dir + ": " + e.getMessage()).withCause(e).asException();
    } catch (ExecutionException e) {
      throw Status.fromThrowable(e.getCause()).asException();
    } catch (TimeoutException e) {
      stream.cancel("no acknowledgement", null);
      throw Status.DEADLINE_EXCEEDED.withDescription("the destination did not acknowledge the images within " + ackTimeout).asException();
    }
  }

  private static void send(ClientCallStreamObserver<ImageStreamMessage> stream, Object ready,
      CompletableFuture<ImagesAck> result, ImageStreamMessage message) throws InterruptedException, StatusException {
    synchronized (ready) {
      while (!stream.isReady() && !result.isDone()) {
        ready.wait(100);
      }
    }
    if (result.isCompletedExceptionally()) {
      try {
        result.join();
      } catch (java.util.concurrent.CompletionException e) {
        throw Status.fromThrowable(e.getCause()).asException();
      }
    }
    stream.onNext(message);
  }
}
