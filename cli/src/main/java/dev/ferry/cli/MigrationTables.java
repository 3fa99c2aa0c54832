package dev.ferry.cli;

import dev.ferry.cli.render.TextTable;
import dev.ferry.cli.units.ByteSize;
import dev.ferry.cli.units.Figures;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.Phase;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** Text forms of migrations for {@code list} and {@code status}. Pure. */
final class MigrationTables {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private MigrationTables() {
    }

    static List<String> list(List<MigrationInfo> migrations) {
        TextTable t = new TextTable("ID", "PID", "FROM", "TO", "PHASE", "ROUND", "STARTED", "DOWNTIME", "REASON");
        for (MigrationInfo m : migrations) {
            t.row(m.getId(), m.getPid(), m.getSourceHost(), m.getDestinationHost(),
                    phase(m), m.getRound(), time(m.getCreatedUnixMillis()), downtime(m), m.getReason());
        }
        return t.lines();
    }

    static List<String> detail(MigrationInfo m) {
        var l = m.getLimits();
        TextTable t = new TextTable("migration", m.getId());
        t.row("process", "pid " + m.getPid() + ", " + m.getSourceHost() + " -> " + m.getDestinationHost()
                + (m.getDryRun() ? " (dry run)" : ""));
        t.row("phase", phase(m) + (m.getRound() > 0 ? ", round " + m.getRound() : ""));
        t.row("runs on", m.getOwnerHost().isEmpty() ? m.getSourceHost() : m.getOwnerHost());
        t.row("tracker", m.getTracker().name().toLowerCase(Locale.ROOT));
        t.row("limits", String.format(Locale.ROOT, "downtime <= %s, at most %d rounds, bandwidth %s, on stall %s",
                Figures.millis(l.getDowntimeLimitMillis()), l.getMaxRounds(),
                l.getBandwidthLimitBytesPerSec() == 0 ? "unlimited" : ByteSize.format(l.getBandwidthLimitBytesPerSec()) + "/s",
                l.getOnStall().name().toLowerCase(Locale.ROOT).replace("stall_", "")));
        if (!m.getReason().isEmpty()) {
            t.row("reason", m.getReason());
        }
        t.row("started", time(m.getCreatedUnixMillis()));
        t.row("updated", time(m.getUpdatedUnixMillis()));
        if (terminal(m.getPhase())) {
            var s = m.getSummary();
            t.row("summary", String.format(Locale.ROOT, "%s %s, total %s, sent %s, %d rounds",
                    m.getDryRun() ? "predicted downtime" : "downtime", downtime(m), Figures.millis(s.getTotalMillis()),
                    ByteSize.format(s.getBytesSent()), s.getRounds())
                    + (m.getDryRun() ? (s.getWouldConverge() ? ", would converge" : ", would NOT converge") : ""));
        }
        return t.lines();
    }

    static boolean terminal(Phase p) {
        return p == Phase.DONE || p == Phase.FAILED || p == Phase.CANCELLED;
    }

    private static String phase(MigrationInfo m) {
        return m.getPhase().name().toLowerCase(Locale.ROOT);
    }

    private static String downtime(MigrationInfo m) {
        if (!terminal(m.getPhase())) {
            return "-";
        }
        long millis = m.getDryRun() ? m.getSummary().getPredictedDowntimeMillis() : m.getSummary().getDowntimeMillis();
        return (m.getDryRun() ? "~" : "") + Figures.millis(millis);
    }

    private static String time(long unixMillis) {
        return unixMillis == 0 ? "-" : TIME.format(Instant.ofEpochMilli(unixMillis));
    }
}
