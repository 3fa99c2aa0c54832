package dev.ferry.cli.render;

import dev.ferry.proto.Decision;
import dev.ferry.proto.DecisionKind;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationLimits;
import dev.ferry.proto.MigrationSummary;
import dev.ferry.proto.Phase;
import dev.ferry.proto.PhaseEvent;
import dev.ferry.proto.RoundEvent;
import dev.ferry.proto.RoundFigures;
import dev.ferry.proto.StallAction;
import dev.ferry.proto.TrackerKind;
import java.util.ArrayList;
import java.util.List;

/** A recorded event sequence of one migration, shaped like a coordinator's. */
public final class Recorded {
    public static final long T0 = 1_780_000_000_000L;
    /** Dirty pages per round: shrinking to convergence. */
    public static final long[] DIRTY = {262_144, 40_960, 9_000, 2_100, 500};
    public static final long[] EXPECTED_MS = {1_800, 420, 95, 31, 12};

    private Recorded() {
    }

    public static MigrationInfo info(Phase phase) {
        return MigrationInfo.newBuilder().setId("m-0001").setPid(4242).setSourceHost("host1")
                .setDestinationHost("host2").setPhase(phase).setOwnerHost("host1").setTracker(TrackerKind.SOFT_DIRTY)
                .setCreatedUnixMillis(T0)
                .setLimits(MigrationLimits.newBuilder().setDowntimeLimitMillis(300).setMaxRounds(30)
                        .setOnStall(StallAction.STALL_THROTTLE).setStallRounds(3))
                .build();
    }

    public static RoundEvent round(int n) {
        long dirty = DIRTY[n - 1];
        RoundFigures f = RoundFigures.newBuilder().setRound(n).setDirtyPages(dirty).setBytesSent(dirty * 4096)
                .setFreezeWindowMicros(1_200 + n * 10).setCopyMicros(dirty * 2).setRoundMicros(dirty * 2 + 5_000)
                .setBandwidthBytesPerSec(1.5e9).setDirtyPagesPerSec(n == 1 ? 0 : 4_000.0 * n).setTotalPages(262_144)
                .setTracker(TrackerKind.SOFT_DIRTY).build();
        boolean last = n == DIRTY.length;
        Decision d = Decision.newBuilder().setKind(last ? DecisionKind.FREEZE : DecisionKind.CONTINUE)
                .setExpectedDowntimeMillis(EXPECTED_MS[n - 1])
                .setReason(last ? "expected downtime 12 ms <= limit 300 ms"
                        : "expected downtime " + EXPECTED_MS[n - 1] + " ms > limit 300 ms")
                .build();
        return RoundEvent.newBuilder().setFigures(f).setDecision(d).build();
    }

    /** started, precopy, 5 rounds, the switch-over phases, finished DONE. */
    public static List<MigrationEvent> done() {
        List<MigrationEvent> events = new ArrayList<>();
        long t = T0;
        events.add(event(events.size(), t, b -> b.setStarted(info(Phase.PENDING))));
        events.add(event(events.size(), t += 5, b -> b.setPhase(phase(Phase.PRECOPY, "", 5))));
        for (int n = 1; n <= DIRTY.length; n++) {
            int round = n;
            events.add(event(events.size(), t += 400, b -> b.setRound(round(round))));
        }
        events.add(event(events.size(), t += 1, b -> b.setPhase(phase(Phase.FREEZING, "stopping 1 process", 2_001))));
        events.add(event(events.size(), t += 3, b -> b.setPhase(phase(Phase.FINAL_COPY, "criu dump, 1.2 MiB of images", 3))));
        events.add(event(events.size(), t += 40, b -> b.setPhase(phase(Phase.RESTORING, "criu restore on host2", 40))));
        events.add(event(events.size(), t += 60, b -> b.setPhase(phase(Phase.COMMITTED, "recorded in ZooKeeper", 60))));
        MigrationInfo done = info(Phase.DONE).toBuilder().setOwnerHost("host2").setRound(5)
                .setSummary(MigrationSummary.newBuilder().setDowntimeMillis(105).setTotalMillis(2_120)
                        .setBytesSent(1_289_000_000L).setRounds(5).setRestoredPid(4242).setParentUsed(true))
                .build();
        events.add(event(events.size(), t += 8, b -> b.setFinished(done)));
        return events;
    }

    static PhaseEvent phase(Phase p, String detail, long previousMillis) {
        return PhaseEvent.newBuilder().setPhase(p).setDetail(detail).setPhaseMillis(previousMillis).build();
    }

    static MigrationEvent event(int seq, long at, java.util.function.Consumer<MigrationEvent.Builder> kind) {
        MigrationEvent.Builder b = MigrationEvent.newBuilder().setMigrationId("m-0001").setSequence(seq).setAtUnixMillis(at);
        kind.accept(b);
        return b.build();
    }
}
