package dev.ferry.coordinator.state;

import dev.ferry.coordinator.policy.RoundSample;
import dev.ferry.proto.TrackerKind;
import java.time.Duration;

/** What happened: an effect's result, an operator's request, or a change of leader. */
public sealed interface Signal {
  /** The migration was created; start it. */
  record Begin() implements Signal {}

  /** A new leader adopted this unfinished migration. */
  record Recovered() implements Signal {}

  record ReceivePrepared() implements Signal {}

  record TrackingStarted(TrackerKind tracker, String reason) implements Signal {}

  /** @param elapsed pre-copy time so far (time as a value) */
  record RoundDone(RoundSample sample, Duration elapsed) implements Signal {}

  record Throttled(int percent) implements Signal {}

  record Checkpointed(CheckpointResult result) implements Signal {}

  record ImagesConfirmed() implements Signal {}

  record Restored(int pid) implements Signal {}

  /** @param atUnixMillis wall-clock time the restored process was resumed */
  record RestoredResumed(long atUnixMillis) implements Signal {}

  record SourceKilled() implements Signal {}

  record SourceResumed() implements Signal {}

  record Discarded() implements Signal {}

  /** An effect failed; {@code step} names it for the operator. */
  record StepFailed(String step, String reason) implements Signal {}

  record CancelRequested(String reason) implements Signal {}
}
