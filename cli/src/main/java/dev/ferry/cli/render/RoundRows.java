package dev.ferry.cli.render;

import dev.ferry.cli.units.ByteRate;
import dev.ferry.cli.units.ByteSize;
import dev.ferry.cli.units.Figures;
import dev.ferry.proto.Decision;
import dev.ferry.proto.RoundEvent;
import dev.ferry.proto.RoundFigures;
import java.util.Locale;

/** The round table's header and rows: fixed-width columns, the decision's reason last. Pure. */
public final class RoundRows {
    private static final String FORMAT = "%5s %12s %10s %10s %12s %12s %9s %13s  %-12s %s";

    private RoundRows() {
    }

    public static String header() {
        return String.format(Locale.ROOT, FORMAT, "round", "dirty pages", "sent", "round time", "throughput",
                "dirty rate", "freeze", "exp. downtime", "decision", "reason").stripTrailing();
    }

    public static String row(RoundEvent event) {
        RoundFigures f = event.getFigures();
        Decision d = event.getDecision();
        return String.format(Locale.ROOT, FORMAT,
                f.getRound(),
                Figures.count(f.getDirtyPages()),
                ByteSize.format(f.getBytesSent()),
                Figures.micros(f.getRoundMicros()),
                ByteRate.format(f.getBandwidthBytesPerSec()),
                Figures.pageRate(f.getDirtyPagesPerSec()),
                Figures.micros(f.getFreezeWindowMicros()),
                Figures.millis(d.getExpectedDowntimeMillis()),
                decision(d),
                d.getReason()).stripTrailing();
    }

    /** e.g. {@code continue}, {@code throttle 30%}, {@code freeze}. */
    public static String decision(Decision d) {
        return switch (d.getKind()) {
            case CONTINUE -> "continue";
            case THROTTLE -> "throttle " + d.getThrottlePercent() + "%";
            case FREEZE -> "freeze";
            case ABORT -> "abort";
            case DECISION_UNSPECIFIED, UNRECOGNIZED -> "-";
        };
    }
}
