package dev.ferry.agent.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ferry.proto.PageBatch;
import dev.ferry.proto.PageRun;
import dev.ferry.proto.PageStreamMessage;
import dev.ferry.proto.RoundTrailer;
import io.grpc.internal.CompositeReadableBuffer;
import io.grpc.internal.ReadableBuffer;
import io.grpc.internal.ReadableBuffers;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The destination's PushRound marshaller on messages split across buffers as gRPC delivers them
 * (cuts inside the header, inside a page, between pages): the batch decodes to the same fields
 * and the same bytes, read in place from the buffers, which stay held until the message is closed.
 */
class InboundMarshallerTest {
  private static final int PAGES = 5;
  private final byte[] pages = new byte[PAGES * PageHashing.PAGE];
  private final PageStreamMessage batch;

  InboundMarshallerTest() {
    new Random(7).nextBytes(pages);
    batch = PageStreamMessage.newBuilder().setBatch(PageBatch.newBuilder().setPid(42).setSequence(3).setCrc32C(0x1234)
        .setUncompressedLength(pages.length)
        .addRuns(PageRun.newBuilder().setAddress(0x7f0000000000L).setPages(3))
        .addRuns(PageRun.newBuilder().setAddress(0x7f0000010000L).setPages(2))
        .addRuns(PageRun.newBuilder().setAddress(0x7f0000020000L).setPages(9).setZero(true))
        .setData(ByteString.copyFrom(pages))).build();
  }

  @Test
  void aBatchSplitAnywhereDecodesToTheSameFieldsAndBytes() throws Exception {
    byte[] wire = batch.toByteArray();
    // cuts inside the batch's tag, the run list, a page, and the last page
    ByteBuffer[] parts = split(wire, 1, 3, 40, 40 + PageHashing.PAGE + 17, wire.length - 2 * PageHashing.PAGE + 1, wire.length - 5);

    InboundMessage m = InboundMarshaller.decodeBatch(new Pieces(parts));

    assertEquals(batch.getBatch().toBuilder().clearData().build(), m.message().getBatch());
    assertTrue(m.data().length > 1, "the data is left where it arrived, in several buffers");
    assertArrayEquals(pages, bytes(m.data()));
    long[] hashes = new long[PAGES];
    assertEquals(PAGES, new PageHashing().contentHashes(m.data(), hashes));
    for (int i = 0; i < PAGES; i++) {
      assertEquals(new PageHashing().contentHash(pages, i * PageHashing.PAGE), hashes[i], "page " + i + " (split across buffers or not)");
    }
  }

  @Test
  void aBatchInSeveralReceiveBuffersIsReadInPlaceAndHeldUntilClosed() throws Exception {
    byte[] wire = batch.toByteArray();
    // gRPC merges runs of buffers under 1 KiB into a copy: these are the large pieces frames give
    int[] cuts = {2000, 2000 + PageHashing.PAGE + 17, wire.length - 2 * PageHashing.PAGE + 1, wire.length - 5};
    AtomicInteger released = new AtomicInteger();
    CompositeReadableBuffer composite = new CompositeReadableBuffer();
    for (ByteBuffer part : split(wire, cuts)) {
      composite.addBuffer(counting(part, released));
    }

    InboundMessage m = new InboundMarshaller().parse(ReadableBuffers.openStream(composite, true));

    assertTrue(m.inPlace(), "read in place, not copied");
    assertEquals(4, m.data().length, "views of the four buffers the data arrived in");
    assertEquals(batch.getBatch().toBuilder().clearData().build(), m.message().getBatch());
    assertArrayEquals(pages, bytes(m.data()));
    assertEquals(0, released.get(), "gRPC's buffers are held while the message is in use");
    m.close();
    assertEquals(cuts.length + 1, released.get(), "closing the message releases every buffer");
  }

  @Test
  void otherMessagesAreParsedFromACopyAndReleaseTheBuffersAtOnce() throws Exception {
    PageStreamMessage trailer = PageStreamMessage.newBuilder().setTrailer(RoundTrailer.newBuilder().setBatches(9).setPages(99)).build();
    byte[] wire = trailer.toByteArray();
    AtomicInteger released = new AtomicInteger();
    CompositeReadableBuffer composite = new CompositeReadableBuffer();
    composite.addBuffer(counting(ByteBuffer.wrap(wire, 0, 2).slice(), released));
    composite.addBuffer(counting(ByteBuffer.wrap(wire, 2, wire.length - 2).slice(), released));

    InboundMessage m = new InboundMarshaller().parse(ReadableBuffers.openStream(composite, true));

    assertFalse(m.inPlace());
    assertNull(m.data());
    assertEquals(trailer, m.message());
    assertEquals(2, released.get(), "nothing held past the parse");
  }

  @Test
  void garbageIsRefusedAsInvalidProtobuf() {
    byte[] wire = {0x12, 0x05, 0x1a, 0x7f, 0x00}; // a batch whose data field claims more bytes than there are
    CompositeReadableBuffer composite = new CompositeReadableBuffer();
    composite.addBuffer(ReadableBuffers.wrap(ByteBuffer.wrap(wire)));
    var e = assertThrows(io.grpc.StatusRuntimeException.class,
        () -> new InboundMarshaller().parse(ReadableBuffers.openStream(composite, true)));
    assertEquals(io.grpc.Status.Code.INTERNAL, e.getStatus().getCode());
  }

  private static ByteBuffer[] split(byte[] wire, int... cuts) {
    ByteBuffer[] parts = new ByteBuffer[cuts.length + 1];
    int from = 0;
    for (int i = 0; i <= cuts.length; i++) {
      int to = i < cuts.length ? cuts[i] : wire.length;
      parts[i] = ByteBuffer.allocateDirect(to - from).put(wire, from, to - from).flip();
      from = to;
    }
    return parts;
  }

  private static byte[] bytes(ByteBuffer[] parts) {
    ByteBuffer all = Pieces.contiguous(parts);
    byte[] out = new byte[all.remaining()];
    all.get(out);
    return out;
  }

  /** A buffer that counts its release (gRPC closes a ReadableBuffer to release it). */
  private static ReadableBuffer counting(ByteBuffer data, AtomicInteger released) {
    return new io.grpc.internal.ForwardingReadableBuffer(ReadableBuffers.wrap(data)) {
      private boolean closed;

      @Override
      public void close() {
        if (!closed) {
          closed = true;
          released.incrementAndGet();
        }
        super.close();
      }
    };
  }
}
