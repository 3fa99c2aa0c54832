package dev.ferry.cli.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.Phase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TableViewTest {
    private static List<String> render(List<MigrationEvent> events) {
        StringWriter text = new StringWriter();
        ConsoleLines lines = new ConsoleLines(new PrintWriter(text), false);
        try (TableView view = new TableView(lines, () -> Recorded.T0)) {
            events.forEach(view::show);
        }
        return Arrays.asList(text.toString().split("\n"));
    }

    @Test
    void oneRowPerRoundWithItsFigures() {
        List<String> out = render(Recorded.done());
        Pattern row = Pattern.compile("^\\s+\\d+\\s+[\\d,]+\\s.*");
        List<String> rows = out.stream().filter(l -> row.matcher(l).matches()).toList();
        assertEquals(5, rows.size(), String.join("\n", out));
        for (int i = 0; i < rows.size(); i++) {
            String[] cols = rows.get(i).trim().split("\\s{2,}|\\s(?=\\S)", -1);
            String r = rows.get(i);
            assertEquals(String.valueOf(i + 1), cols[0], r);
            assertTrue(r.contains(String.format("%,d", Recorded.DIRTY[i])), r);
            assertTrue(r.contains(Recorded.EXPECTED_MS[i] + " ms"), r);
        }
        assertTrue(rows.get(0).contains("1.00 GiB"), rows.get(0)); // 262,144 pages * 4 KiB
        assertTrue(rows.get(0).contains("1.40 GiB/s"), rows.get(0)); // 1.5e9 B/s
        assertTrue(rows.get(0).contains("continue") && rows.get(0).endsWith("expected downtime 1800 ms > limit 300 ms"));
        assertTrue(rows.get(4).contains("freeze") && rows.get(4).endsWith("expected downtime 12 ms <= limit 300 ms"));
    }

    @Test
    void headingThenTableThenPhasesThenSummary() {
        List<String> out = render(Recorded.done());
        assertTrue(out.get(0).startsWith("migration m-0001: pid 4242, host1 -> host2"), out.get(0));
        assertTrue(out.get(1).startsWith("limits: downtime <= 300 ms, at most 30 rounds, bandwidth unlimited, on stall throttle"));
        assertTrue(out.get(2).trim().startsWith("round"), out.get(2));
        int phases = out.indexOf("phases:");
        assertEquals(8, phases, String.join("\n", out));
        assertTrue(out.get(phases + 1).matches("\\s+precopy\\s+2\\.00 s\\s+5 rounds"), out.get(phases + 1));
        assertTrue(out.get(phases + 2).matches("\\s+freezing\\s+3\\.00 ms\\s+stopping 1 process"), out.get(phases + 2));
        assertTrue(out.get(phases + 3).matches("\\s+final_copy\\s+40 ms\\s+criu dump.*"), out.get(phases + 3));
        assertTrue(out.get(phases + 4).matches("\\s+restoring\\s+60 ms\\s+criu restore on host2"), out.get(phases + 4));
        assertTrue(out.get(phases + 5).matches("\\s+committed\\s+8\\.00 ms\\s+recorded in ZooKeeper"), out.get(phases + 5));
        assertEquals("done: pid 4242 now runs on host2 as pid 4242 (CRIU used the pre-copied pages)", out.get(phases + 6));
        assertEquals("downtime 105 ms, total 2.12 s, sent 1.20 GiB, 5 rounds", out.get(phases + 7));
        assertEquals(phases + 8, out.size());
    }

    @Test
    void theLimitsLineNamesTheTrackerOnceTrackingStarted() {
        // The started event is recorded before the source agent chose a tracker.
        List<MigrationEvent> events = new java.util.ArrayList<>(Recorded.done());
        events.set(0, events.get(0).toBuilder().setStarted(events.get(0).getStarted().toBuilder()
                .clearTracker()).build());
        List<MigrationEvent> fromRounds = List.copyOf(events);
        assertTrue(events.get(1).hasPhase() && events.get(1).getPhase().getPhase() == Phase.PRECOPY, events.get(1).toString());
        events.set(1, events.get(1).toBuilder().setPhase(events.get(1).getPhase().toBuilder()
                .setTracker(dev.ferry.proto.TrackerKind.CONTENT_HASH)).build());
        List<String> out = render(events);
        assertTrue(out.get(1).startsWith("limits: ") && out.get(1).endsWith("; tracker content hash"), out.get(1));
        assertEquals(1, out.stream().filter(l -> l.startsWith("limits: ")).count(), String.join("\n", out));
        assertTrue(out.get(2).trim().startsWith("round"), out.get(2));

        // a PRECOPY event without the tracker (older coordinator): the first round's figures name it
        List<String> rounds = render(fromRounds);
        assertTrue(rounds.get(1).startsWith("limits: ") && rounds.get(1).endsWith("; tracker soft-dirty"), rounds.get(1));
        assertTrue(rounds.stream().noneMatch(l -> l.contains("not chosen") || l.contains("unspecified")), String.join("\n", rounds));
    }

    @Test
    void dryRunSummarySaysWhetherItWouldConverge() {
        var info = Recorded.info(Phase.DONE).toBuilder().setDryRun(true)
                .setSummary(dev.ferry.proto.MigrationSummary.newBuilder().setPredictedDowntimeMillis(480)
                        .setWouldConverge(false).setRounds(30).setTotalMillis(9_000).setBytesSent(1 << 30))
                .build();
        List<String> lines = Summaries.of(info);
        assertEquals("dry run: would NOT converge; predicted downtime 480 ms (limit 300 ms)", lines.get(0));
        assertEquals("total 9.00 s, sent 1.00 GiB, 30 rounds; pid 4242 untouched on host1", lines.get(1));
    }

    @Test
    void statusLineNamesTheRoundInProgressAndItsAge() {
        long[] now = {Recorded.T0};
        StringWriter text = new StringWriter();
        TableView view = new TableView(new ConsoleLines(new PrintWriter(text), false), () -> now[0]);
        List<MigrationEvent> events = Recorded.done();
        events.subList(0, 4).forEach(view::show); // started, precopy, rounds 1 and 2
        now[0] += 1_500;
        assertEquals("... round 3 running, 1.5 s", view.status());
        events.subList(4, 8).forEach(view::show); // rounds 3..5, freezing
        assertTrue(view.status().startsWith("... FREEZING in progress"), view.status());
        events.subList(8, events.size()).forEach(view::show);
        assertEquals("", view.status());
        assertFalse(text.toString().contains("..."), "no status line on a non-terminal");
    }
}
