package dev.ferry.coordinator.state;

import java.time.Duration;

/**
 * The figures of a finished migration.
 *
 * @param downtime freeze start to resumed on the destination (zero for a dry run or a rollback)
 * @param predictedDowntime what the policy expected a freeze to cost when pre-copy ended
 * @param wouldConverge a dry run's verdict; for a real migration, whether it froze within the limit
 */
public record Outcome(int rounds, long bytesSent, Duration downtime, int restoredPid, boolean parentUsed,
    Duration predictedDowntime, boolean wouldConverge) {

  public static final Outcome NONE = new Outcome(0, 0, Duration.ZERO, 0, false, Duration.ZERO, false);
}
