package dev.ferry.cli.render;

import dev.ferry.cli.units.ByteSize;
import dev.ferry.cli.units.Figures;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationSummary;
import java.util.Locale;

/** The closing lines of a finished migration: outcome, where the process runs, the figures. Pure. */
public final class Summaries {
    private Summaries() {
    }

    public static java.util.List<String> of(MigrationInfo info) {
        MigrationSummary s = info.getSummary();
        String figures = String.format(Locale.ROOT, "total %s, sent %s, %d rounds",
                Figures.millis(s.getTotalMillis()), ByteSize.format(s.getBytesSent()), s.getRounds());
        String reason = info.getReason().isEmpty() ? "" : ": " + info.getReason();
        String owner = info.getOwnerHost().isEmpty() ? info.getSourceHost() : info.getOwnerHost();
        return switch (info.getPhase()) {
            case DONE -> info.getDryRun()
                    ? java.util.List.of(
                            String.format(Locale.ROOT, "dry run: %s; predicted downtime %s (limit %s)",
                                    s.getWouldConverge() ? "would converge" : "would NOT converge",
                                    Figures.millis(s.getPredictedDowntimeMillis()),
                                    Figures.millis(info.getLimits().getDowntimeLimitMillis())),
                            figures + "; pid " + info.getPid() + " untouched on " + owner)
                    : java.util.List.of(
                            String.format(Locale.ROOT, "done: pid %d now runs on %s as pid %d%s",
                                    info.getPid(), owner, s.getRestoredPid(),
                                    s.getParentUsed() ? " (CRIU used the pre-copied pages)" : ""),
                            "downtime " + Figures.millis(s.getDowntimeMillis()) + ", " + figures);
            case FAILED -> java.util.List.of("failed, rolled back" + reason,
                    figures + "; pid " + info.getPid() + " runs on " + owner);
            case CANCELLED -> java.util.List.of("cancelled" + reason,
                    figures + "; pid " + info.getPid() + " runs on " + owner);
            default -> java.util.List.of("ended in phase " + info.getPhase() + reason);
        };
    }
}
