package dev.ferry.agent.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.proto.ImageChunk;
import dev.ferry.proto.ImageHeader;
import dev.ferry.proto.ImageStreamMessage;
import dev.ferry.proto.ImageTrailer;
import dev.ferry.proto.ImagesAck;
import dev.ferry.testkit.MetricsScrape;
import dev.ferry.proto.PageStreamGrpc;
import dev.ferry.proto.PrepareReceiveRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PushImages (the final CRIU image dir) between two real agents on loopback: the files arrive
 * byte for byte under the store's final/; a damaged chunk or counts that do not add up are
 * DATA_LOSS and leave neither final/ nor final.tmp/ behind (an earlier complete final/ stays).
 */
class ImageStreamTest {
  @TempDir
  static Path dir;
  static TwoAgents agents;
  static ManagedChannel sourceToDestination;

  @BeforeAll
  static void start() throws Exception {
    agents = new TwoAgents(dir, SendOptions.defaults(), dir.resolve("host2"));
    sourceToDestination = agents.transport.channel(agents.destination.address());
  }

  @AfterAll
  static void stop() {
    sourceToDestination.shutdownNow();
    agents.close();
  }

  private static Path prepare(String id) throws Exception {
    agents.destinationStub().prepareReceive(PrepareReceiveRequest.newBuilder().setMigrationId(id)
        .setStreamToken(agents.token).setSourceHost("host1").build());
    return dir.resolve("host2").resolve("stores").resolve(id);
  }

  private static Path images(String name, int... sizes) throws Exception {
    Path images = Files.createDirectories(dir.resolve(name));
    Random random = new Random(name.hashCode());
    for (int i = 0; i < sizes.length; i++) {
      byte[] b = new byte[sizes[i]];
      random.nextBytes(b);
      Files.write(images.resolve("pages-" + (i + 1) + ".img"), b);
    }
    return images;
  }

  @Test
  void theImageDirArrivesByteForByte() throws Exception {
    Path store = prepare("img-ok");
    // several chunks, an exact chunk multiple, a small file, an empty file
    Path images = images("images-ok", 2_500_000, 1 << 20, 4096, 0);
    double receivedBefore = imageBytesReceived();
    ImagesAck ack = ImagePusher.push(agents.transport, sourceToDestination, "img-ok", agents.token, images, Duration.ofSeconds(60));
    assertEquals(4, ack.getFiles());
    assertEquals(2_500_000 + (1 << 20) + 4096, ack.getBytes());
    for (String f : List.of("pages-1.img", "pages-2.img", "pages-3.img", "pages-4.img")) {
      assertArrayEquals(Files.readAllBytes(images.resolve(f)), Files.readAllBytes(store.resolve("final").resolve(f)), f);
    }
    assertFalse(Files.exists(store.resolve("final.tmp")));
    assertEquals(ack.getBytes(), imageBytesReceived() - receivedBefore, "the destination counts the bytes it acknowledged");
  }

  private static double imageBytesReceived() throws Exception {
    return MetricsScrape.value(MetricsScrape.scrape(agents.destinationMetrics.port()),
        "ferry_agent_image_stream_bytes_total{direction=\"received\"}");
  }

  @Test
  void aWrongTokenIsRefused() throws Exception {
    prepare("img-token");
    StatusException e = assertThrows(StatusException.class, () -> ImagePusher.push(agents.transport, sourceToDestination, "img-token",
        ByteString.copyFromUtf8("not-the-token-of-this-migration!"), images("images-token", 10), Duration.ofSeconds(60)));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e.getStatus().toString());
  }

  @Test
  void aDamagedChunkIsDataLossAndNothingIsLeftHalfWritten() throws Exception {
    Path store = prepare("img-bad");
    Path good = images("images-good", 100_000);
    ImagePusher.push(agents.transport, sourceToDestination, "img-bad", agents.token, good, Duration.ofSeconds(60));
    byte[] before = Files.readAllBytes(store.resolve("final").resolve("pages-1.img"));

    byte[] data = new byte[8192];
    new Random(1).nextBytes(data);
    CRC32C crc = new CRC32C();
    crc.update(data);
    ImageStreamMessage first = chunk("pages-1.img", 0, data, (int) crc.getValue());
    byte[] flipped = data.clone();
    flipped[5000] ^= 0x10; // one bit flipped in transit: the CRC no longer matches
    ImageStreamMessage damaged = chunk("pages-1.img", 8192, flipped, (int) crc.getValue());
    Status status = push(List.of(header("img-bad"), first, damaged, trailer(1, 16384)));
    assertEquals(Status.Code.DATA_LOSS, status.getCode(), status.toString());
    assertTrue(status.getDescription().contains("CRC32C"), status.getDescription());
    assertFalse(Files.exists(store.resolve("final.tmp")), "the partial image dir is deleted");
    assertArrayEquals(before, Files.readAllBytes(store.resolve("final").resolve("pages-1.img")), "the earlier final/ is untouched");

    Status counts = push(List.of(header("img-bad"), first, trailer(2, 8192)));
    assertEquals(Status.Code.DATA_LOSS, counts.getCode(), counts.toString());
    assertFalse(Files.exists(store.resolve("final.tmp")));
    assertArrayEquals(before, Files.readAllBytes(store.resolve("final").resolve("pages-1.img")));

    Status unfinished = push(List.of(header("img-bad"), first));
    assertEquals(Status.Code.FAILED_PRECONDITION, unfinished.getCode(), unfinished.toString());
    assertFalse(Files.exists(store.resolve("final.tmp")));

    Status escape = push(List.of(header("img-bad"), chunk("../escape.img", 0, data, (int) crc.getValue()), trailer(1, 8192)));
    assertEquals(Status.Code.INVALID_ARGUMENT, escape.getCode(), escape.toString());
    assertFalse(Files.exists(store.resolve("escape.img")));
    assertFalse(Files.exists(store.resolve("final.tmp")));
  }

  private static ImageStreamMessage header(String id) {
    return ImageStreamMessage.newBuilder().setHeader(ImageHeader.newBuilder().setMigrationId(id).setStreamToken(agents.token)).build();
  }

  private static ImageStreamMessage chunk(String name, long offset, byte[] data, int crc) {
    return ImageStreamMessage.newBuilder().setChunk(ImageChunk.newBuilder().setFileName(name).setOffset(offset)
        .setData(ByteString.copyFrom(data)).setCrc32C(crc)).build();
  }

  private static ImageStreamMessage trailer(int files, long bytes) {
    return ImageStreamMessage.newBuilder().setTrailer(ImageTrailer.newBuilder().setFiles(files).setBytes(bytes)).build();
  }

  /** A raw PushImages call sending {@code messages}; how the stream ended. */
  private static Status push(List<ImageStreamMessage> messages) throws Exception {
    CompletableFuture<Status> done = new CompletableFuture<>();
    StreamObserver<ImageStreamMessage> out = agents.transport.withDeadline(PageStreamGrpc.newStub(sourceToDestination), Duration.ofSeconds(30))
        .pushImages(new StreamObserver<>() {
          @Override
          public void onNext(ImagesAck value) {}

          @Override
          public void onError(Throwable t) {
            done.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            done.complete(Status.OK);
          }
        });
    messages.forEach(out::onNext);
    out.onCompleted();
    return done.get(60, TimeUnit.SECONDS);
  }
}
