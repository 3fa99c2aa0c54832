package dev.ferry.agent.transfer;

import dev.ferry.proto.PageStreamMessage;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * One PushRound message as the destination receives it: the message with a batch's {@code data}
 * field left out, and that data as read-only views ({@code null} unless the message is a batch):
 * of gRPC's own receive buffers when {@code held} is set (read in place, no copy: {@link
 * InboundMarshaller}), else of the marshaller's per-thread buffer. Either way the views are valid
 * only until the receiver's {@code onNext} returns, which must {@link #close} the message: that
 * releases gRPC's buffers (the thread's buffer is reused for the next message).
 * {@code parseNanos}: how long reading it out of gRPC's buffers took, for the receiver's figures.
 */
record InboundMessage(PageStreamMessage message, ByteBuffer[] data, long parseNanos, Closeable held) implements AutoCloseable {
  InboundMessage(PageStreamMessage message, ByteBuffer[] data) {
    this(message, data, 0, null);
  }

  /** This message, with the time its parsing took (on the receiving thread, before onNext). */
  InboundMessage parsedIn(long nanos) {
    return new InboundMessage(message, data, nanos, held);
  }

  /** This message, its data views valid until {@code buffers} is closed (by {@link #close}). */
  InboundMessage heldBy(Closeable buffers) {
    return new InboundMessage(message, data, parseNanos, buffers);
  }

  /** Whether the data was read in place (views of gRPC's buffers, not a copy). */
  boolean inPlace() {
    return held != null;
  }

  /** Releases the buffers the data views point into, if the message holds any. Idempotent per gRPC's streams. */
  @Override
  public void close() {
    if (held != null) {
      try {
        held.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e); // gRPC's buffer streams do not throw on close
      }
    }
  }
}
