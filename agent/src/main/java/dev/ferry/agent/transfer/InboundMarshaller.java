package dev.ferry.agent.transfer;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.ferry.proto.PageBatch;
import dev.ferry.proto.PageStreamMessage;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * The destination's request marshaller for PushRound: hands a batch's page data on as views of
 * gRPC's own receive buffers instead of a protobuf ByteString, so the page store copies each page
 * once, from the buffers the socket read into. The default marshaller copies the data twice more
 * (into a staging array, then into the ByteString: protobuf 4.x copies a direct buffer it is
 * asked to wrap).
 *
 * <p>In place: gRPC's message stream is {@link Detachable}: detached, it is ours, and marked
 * ({@code mark()}), it keeps the buffers it has been read past instead of releasing them, so
 * the views stay valid until {@link InboundMessage#close} (the receiver's {@code onNext} closes
 * every message). Measured before (session 6 profile): the copy into a per-thread buffer was a
 * third of the receiving thread's CPU.
 *
 * <p>Otherwise (a stream that offers no buffers) the message is copied once into a reusable
 * direct buffer per thread. Why the reuse is safe: gRPC parses a message on the call's executor
 * thread immediately before {@code onNext} and parses the next message (of any call) on that
 * thread only after {@code onNext} returned; {@link RoundReceiver} finishes with the data before
 * returning.
 *
 * <p>The fast path decodes only the common shape (one batch field holding one data field); any
 * other encoding goes through protobuf's parser, so every valid message is accepted and invalid
 * ones fail as with the default marshaller (INTERNAL "Invalid protobuf byte sequence").
 */
final class InboundMarshaller implements MethodDescriptor.Marshaller<InboundMessage> {
  private static final int BATCH_FIELD = 2;
  private static final int DATA_FIELD = 3;
  private static final MethodDescriptor.Marshaller<PageStreamMessage> PROTO =
      ProtoUtils.marshaller(PageStreamMessage.getDefaultInstance());

  private final ThreadLocal<ByteBuffer> buffers = new ThreadLocal<>();
  private final ThreadLocal<byte[]> chunks = new ThreadLocal<>();

  @Override
  public InputStream stream(InboundMessage value) {
    PageStreamMessage m = value.message();
    if (value.data() != null) {
      m = m.toBuilder().setBatch(m.getBatch().toBuilder()
          .setData(com.google.protobuf.ByteString.copyFrom(Pieces.contiguous(value.data())))).build();
    }
    return PROTO.stream(m);
  }

  @Override
  public InboundMessage parse(InputStream stream) {
    long from = System.nanoTime();
    try {
      InboundMessage inPlace = inPlace(stream);
      if (inPlace != null) {
        return inPlace.parsedIn(System.nanoTime() - from);
      }
      ByteBuffer buffer = readAll(stream);
      InboundMessage fast = decodeBatch(new Pieces(buffer));
      return (fast != null ? fast : generic(buffer)).parsedIn(System.nanoTime() - from);
    } catch (IOException e) { // InvalidProtocolBufferException included
      throw Status.INTERNAL.withDescription("Invalid protobuf byte sequence: " + e.getMessage()).withCause(e).asRuntimeException();
    }
  }

  /**
   * The message decoded from views of {@code stream}'s own buffers, which it then holds (released
   * when the message is closed); null when the stream cannot be read in place or the message is
   * not a batch of the common shape ({@code stream} then still unread).
   */
  InboundMessage inPlace(InputStream stream) throws IOException {
    if (!(stream instanceof Detachable detachable) || !(stream instanceof HasByteBuffer hb) || !hb.byteBufferSupported()
        || !stream.markSupported()) {
      return null;
    }
    InputStream held = detachable.detach();
    boolean keep = false;
    try {
      held.mark(Integer.MAX_VALUE); // read buffers are kept, not released, until held is closed
      Pieces pieces = Pieces.read(held);
      InboundMessage fast = pieces == null ? null : decodeBatch(pieces);
      if (fast != null) {
        keep = true;
        return fast.heldBy(held);
      }
      held.reset();
      // Not readable in place: parse a copy, then release gRPC's buffers.
      ByteBuffer buffer = readAll(held);
      InboundMessage copied = decodeBatch(new Pieces(buffer));
      return copied != null ? copied : generic(buffer);
    } finally {
      if (!keep) {
        held.close();
      }
    }
  }

  /** The whole message in this thread's buffer, position 0, limit = its size. */
  private ByteBuffer readAll(InputStream stream) throws IOException {
    int size = stream instanceof KnownLength ? stream.available() : -1;
    ByteBuffer buffer = buffer(Math.max(size, 64 * 1024));
    buffer.clear();
    if (stream instanceof HasByteBuffer hb && hb.byteBufferSupported()) {
      while (stream.available() > 0) {
        ByteBuffer part = hb.getByteBuffer();
        if (part == null) {
          break;
        }
        int n = part.remaining();
        buffer = ensure(buffer, n);
        buffer.put(part);
        stream.skip(n);
      }
    }
    byte[] chunk = chunk();
    for (int n; (n = stream.read(chunk)) > 0; ) {
      buffer = ensure(buffer, n);
      buffer.put(chunk, 0, n);
    }
    return buffer.flip();
  }

  private ByteBuffer buffer(int size) {
    ByteBuffer b = buffers.get();
    if (b == null || b.capacity() < size) {
      b = ByteBuffer.allocateDirect(roundUp(size));
      buffers.set(b);
    }
    return b;
  }

  /**
   * Buffer sizes are powers of two: batches differ in size by their run lists, so a buffer of
   * exactly the largest size seen so far was replaced (allocated and zeroed afresh) whenever a
   * slightly larger batch came; profiled at 5 % of the destination's call thread.
   */
  private static int roundUp(int size) {
    int n = Math.max(size, 64 * 1024);
    int p = Integer.highestOneBit(n);
    return p == n || p >= 1 << 30 ? n : p << 1;
  }

  private ByteBuffer ensure(ByteBuffer b, int more) {
    if (b.remaining() >= more) {
      return b;
    }
    ByteBuffer bigger = ByteBuffer.allocateDirect(roundUp(Math.max(b.capacity() * 2, b.position() + more)));
    b.flip();
    bigger.put(b);
    buffers.set(bigger);
    return bigger;
  }

  private byte[] chunk() {
    byte[] c = chunks.get();
    if (c == null) {
      c = new byte[16 * 1024];
      chunks.set(c);
    }
    return c;
  }

  /**
   * The fast path: the message is exactly one batch field, and the batch has at most one data
   * field. Returns null for any other shape (or anything that does not decode cleanly).
   */
  static InboundMessage decodeBatch(Pieces in) throws IOException {
    Cursor c = new Cursor(in, 0, in.size());
    if (c.atEnd() || c.varint() != (BATCH_FIELD << 3 | 2)) {
      return null;
    }
    long length = c.varint();
    if (length < 0 || c.position + length != in.size()) {
      return null;
    }
    int start = c.position;
    int dataTag = -1;
    int dataStart = -1;
    int dataEnd = -1;
    while (!c.atEnd()) {
      int tagAt = c.position;
      long tag = c.varint();
      int field = (int) (tag >>> 3);
      switch ((int) (tag & 7)) {
        case 0 -> c.varint();
        case 1 -> c.skip(8);
        case 5 -> c.skip(4);
        case 2 -> {
          long n = c.varint();
          if (n < 0 || n > c.end - c.position) {
            return null;
          }
          if (field == DATA_FIELD) {
            if (dataTag >= 0) {
              return null; // repeated occurrences: let protobuf apply its merge rule
            }
            dataTag = tagAt;
            dataStart = c.position;
            dataEnd = c.position + (int) n;
          }
          c.skip((int) n);
        }
        default -> {
          return null; // groups: not ours
        }
      }
      if (c.position < 0) {
        return null;
      }
    }
    int end = in.size();
    ByteBuffer[] data;
    byte[] rest; // the run list and the scalars: small, parsed from a copy without the data field
    if (dataTag < 0) {
      rest = new byte[end - start];
      in.copyTo(start, rest, 0, end - start);
      data = new ByteBuffer[0];
    } else {
      rest = new byte[(dataTag - start) + (end - dataEnd)];
      in.copyTo(start, rest, 0, dataTag - start);
      in.copyTo(dataEnd, rest, dataTag - start, end - dataEnd);
      data = in.views(dataStart, dataEnd);
    }
    PageBatch batch = PageBatch.parseFrom(CodedInputStream.newInstance(rest));
    return new InboundMessage(PageStreamMessage.newBuilder().setBatch(batch).build(), data);
  }

  private static InboundMessage generic(ByteBuffer in) throws InvalidProtocolBufferException {
    PageStreamMessage m = PageStreamMessage.parseFrom(in.duplicate());
    if (!m.hasBatch()) {
      return new InboundMessage(m, null);
    }
    ByteBuffer data = m.getBatch().getData().asReadOnlyByteBuffer();
    return new InboundMessage(m.toBuilder().setBatch(m.getBatch().toBuilder().clearData()).build(), new ByteBuffer[] {data});
  }

  /** Bounds-checked protobuf wire reading; position -1 after an overrun. */
  private static final class Cursor {
    private final Pieces in;
    private final int end;
    private int position;

    Cursor(Pieces in, int position, int end) {
      this.in = in;
      this.position = position;
      this.end = end;
    }

    boolean atEnd() {
      return position < 0 || position >= end;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (position < 0 || position >= end) {
          position = -1;
          return -1;
        }
        byte b = in.get(position++);
        v |= (long) (b & 0x7F) << shift;
        if (b >= 0) {
          return v;
        }
      }
      position = -1;
      return -1;
    }

    void skip(int n) {
      if (position < 0 || n < 0 || n > end - position) {
        position = -1;
      } else {
        position += n;
      }
    }
  }
}
