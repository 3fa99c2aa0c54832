package dev.ferry.agent.transfer;

import dev.ferry.proto.PageStreamMessage;
import java.nio.ByteBuffer;

/**
 * One PushRound message as the destination receives it: the message with a batch's {@code data}
 * field left out, and that data as a read-only view of the receive buffer ({@code null} unless
 * the message is a batch). The view is valid only until the receiver's {@code onNext} returns:
 * the buffer is reused for the next message (see {@link InboundMarshaller}). {@code parseNanos}:
 * how long reading it out of gRPC's buffers took, for the receiver's figures.
 */
record InboundMessage(PageStreamMessage message, ByteBuffer data, long parseNanos) {
  InboundMessage(PageStreamMessage message, ByteBuffer data) {
    this(message, data, 0);
  }

  /** This message, with the time its parsing took (on the receiving thread, before onNext). */
  InboundMessage parsedIn(long nanos) {
    return new InboundMessage(message, data, nanos);
  }
}
