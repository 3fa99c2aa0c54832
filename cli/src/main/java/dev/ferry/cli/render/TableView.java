package dev.ferry.cli.render;

import dev.ferry.cli.units.ByteRate;
import dev.ferry.cli.units.Figures;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationLimits;
import dev.ferry.proto.Phase;
import dev.ferry.proto.PhaseEvent;
import dev.ferry.proto.TrackerKind;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The attached view: a heading, one row per round as it completes, the switch-over phases with
 * their times, then a summary. Each phase line is printed when the next phase starts (so it
 * carries its own duration); the phase in progress shows on the live status line.
 * The limits line (with the tracker, chosen by the source agent once tracking starts) follows
 * the heading as soon as the tracker is known: at the PRECOPY phase, else the first round or the end.
 * Confined to the thread that reads the event stream; the status line is read by the ticker
 * through {@link #status()}, which only reads volatile fields.
 */
public final class TableView implements EventView {
    private final ConsoleLines lines;
    private final LongSupplier clockMillis;
    private boolean headerShown;
    private boolean limitsShown;
    private boolean phasesShown;
    private int rounds;
    private MigrationInfo started;
    private volatile Phase phase = Phase.PHASE_UNSPECIFIED;
    private volatile long phaseStartMillis;
    private volatile long lastEventMillis;
    private String phaseDetail = "";

    /** @param clockMillis wall clock in Unix millis (events carry Unix millis) */
    public TableView(ConsoleLines lines, LongSupplier clockMillis) {
        this.lines = lines;
        this.clockMillis = clockMillis;
        lines.startTicker(this::status, Duration.ofMillis(250));
    }

    @Override
    public void show(MigrationEvent event) {
        lastEventMillis = clockMillis.getAsLong();
        switch (event.getKindCase()) {
            case STARTED -> started(event.getStarted());
            case ROUND -> round(event);
            case PHASE -> phase(event.getAtUnixMillis(), event.getPhase());
            case FINISHED -> finished(event.getAtUnixMillis(), event.getFinished());
            case KIND_NOT_SET -> { }
        }
    }

    @Override
    public void note(String message) {
        lines.line(message);
    }

    /** The transient status line: what is happening now and for how long. */
    public String status() {
        Phase p = phase;
        if (p == Phase.PHASE_UNSPECIFIED || terminal(p)) {
            return "";
        }
        double seconds = (clockMillis.getAsLong() - (p == Phase.PRECOPY ? lastEventMillis : phaseStartMillis)) / 1000.0;
        String what = p == Phase.PRECOPY ? "round " + (rounds + 1) + " running" : p.name() + " in progress";
        return String.format(Locale.ROOT, "... %s, %.1f s", what, Math.max(0, seconds));
    }

    private void started(MigrationInfo info) {
        started = info;
        lines.line(heading(info));
        if (info.getTracker() != TrackerKind.TRACKER_UNSPECIFIED) {
            showLimits(info.getTracker());
        }
        if (phase == Phase.PHASE_UNSPECIFIED) {
            phase = info.getPhase();
            phaseStartMillis = info.getCreatedUnixMillis();
        }
    }

    /** Once, after the heading: the limits and the tracker (unspecified: not named). */
    private void showLimits(TrackerKind tracker) {
        if (!limitsShown && started != null) {
            limitsShown = true;
            lines.line(limits(started.getLimits(), tracker));
        }
    }

    private void round(MigrationEvent event) {
        showLimits(event.getRound().getFigures().getTracker());
        if (!headerShown) {
            lines.line(RoundRows.header());
            headerShown = true;
        }
        rounds = Math.max(rounds, event.getRound().getFigures().getRound());
        lines.line(RoundRows.row(event.getRound()));
    }

    private void phase(long atMillis, PhaseEvent event) {
        // an older coordinator's PRECOPY event names no tracker: the first round's figures will
        if (event.getPhase() != Phase.PENDING
                && !(event.getPhase() == Phase.PRECOPY && event.getTracker() == TrackerKind.TRACKER_UNSPECIFIED)) {
            showLimits(event.getTracker());
        }
        if (phase != Phase.PHASE_UNSPECIFIED && phase != Phase.PENDING && phase != event.getPhase()) {
            long took = event.getPhaseMillis() > 0 ? event.getPhaseMillis() : atMillis - phaseStartMillis;
            closePhase(phase, took);
        }
        phase = event.getPhase();
        phaseStartMillis = atMillis;
        phaseDetail = event.getDetail();
    }

    private void closePhase(Phase p, long tookMillis) {
        if (!phasesShown) {
            lines.line("phases:");
            phasesShown = true;
        }
        String detail = p == Phase.PRECOPY ? rounds + " rounds" : phaseDetail;
        lines.line(String.format(Locale.ROOT, "  %-13s %9s  %s", p.name().toLowerCase(Locale.ROOT),
                Figures.millis(Math.max(0, tookMillis)), detail).stripTrailing());
    }

    private void finished(long atMillis, MigrationInfo info) {
        showLimits(info.getTracker());
        if (phase != Phase.PHASE_UNSPECIFIED && !terminal(phase)) {
            closePhase(phase, atMillis - phaseStartMillis);
        }
        phase = info.getPhase();
        lines.close();
        for (String l : Summaries.of(info)) {
            lines.line(l);
        }
    }

    private static boolean terminal(Phase p) {
        return p == Phase.DONE || p == Phase.FAILED || p == Phase.CANCELLED;
    }

    static String heading(MigrationInfo info) {
        return String.format(Locale.ROOT, "migration %s: pid %d, %s -> %s%s", info.getId(), info.getPid(),
                info.getSourceHost().isEmpty() ? "?" : info.getSourceHost(), info.getDestinationHost(),
                info.getDryRun() ? " (dry run: the process is left untouched)" : "");
    }

    static String limits(MigrationLimits l, TrackerKind tracker) {
        return String.format(Locale.ROOT, "limits: downtime <= %s, at most %d rounds, bandwidth %s, on stall %s%s",
                Figures.millis(l.getDowntimeLimitMillis()), l.getMaxRounds(),
                l.getBandwidthLimitBytesPerSec() == 0 ? "unlimited" : ByteRate.format(l.getBandwidthLimitBytesPerSec()),
                switch (l.getOnStall()) {
                    case STALL_FREEZE -> "freeze";
                    case STALL_ABORT -> "abort";
                    default -> "throttle";
                },
                switch (tracker) {
                    case SOFT_DIRTY -> "; tracker soft-dirty";
                    case CONTENT_HASH -> "; tracker content hash";
                    default -> "";
                });
    }

    /** For tests and the summary. */
    MigrationInfo startedInfo() {
        return started;
    }

    @Override
    public void close() {
        lines.close();
    }
}
