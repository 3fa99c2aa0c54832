package dev.ferry.agent.transfer;

import dev.ferry.proto.Compression;
import dev.ferry.proto.PageBatch;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * How a source streams one migration's rounds.
 *
 * @param compression per-batch compression the source asks for (a batch that does not shrink is sent raw)
 * @param bandwidthLimitBytesPerSec 0 = unlimited
 * @param ackTimeout how long to wait for the destination's acknowledgement after the trailer (already scaled)
 * @param batchHook applied to every batch just before sending; identity except in tests that
 *     corrupt a batch on purpose
 */
public record SendOptions(Compression compression, long bandwidthLimitBytesPerSec, Duration ackTimeout,
    UnaryOperator<PageBatch> batchHook) {

  public static SendOptions defaults() {
    return new SendOptions(Compression.COMPRESSION_NONE, 0, Duration.ofMinutes(2), UnaryOperator.identity());
  }

  public SendOptions withCompression(Compression c) {
    return new SendOptions(c, bandwidthLimitBytesPerSec, ackTimeout, batchHook);
  }

  public SendOptions withBandwidthLimit(long bytesPerSec) {
    return new SendOptions(compression, bytesPerSec, ackTimeout, batchHook);
  }

  public SendOptions withBatchHook(UnaryOperator<PageBatch> hook) {
    return new SendOptions(compression, bandwidthLimitBytesPerSec, ackTimeout, hook);
  }

  public SendOptions withAckTimeout(Duration timeout) {
    return new SendOptions(compression, bandwidthLimitBytesPerSec, timeout, batchHook);
  }
}
