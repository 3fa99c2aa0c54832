package dev.ferry.cli.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConsoleLinesTest {
    /** Applies CR, "erase line" and newlines the way a terminal does; returns the final screen. */
    static String screen(String raw) {
        StringBuilder screen = new StringBuilder();
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (raw.startsWith("\r\033[2K", i)) {
                line.setLength(0);
                i += 4;
            } else if (c == '\n') {
                screen.append(line).append('\n');
                line.setLength(0);
            } else if (c == '\r') {
                line.setLength(0); // the status line is always rewritten whole
            } else {
                line.append(c);
            }
        }
        return screen.append(line).toString();
    }

    @Test
    void rowsReplaceTheStatusLineAndItComesBackBelowThem() {
        StringWriter raw = new StringWriter();
        String[] status = {"... round 1 running, 0.2 s"};
        ConsoleLines lines = new ConsoleLines(new PrintWriter(raw), true);
        lines.startTicker(() -> status[0], Duration.ofHours(1)); // refreshed by hand below
        lines.refresh();
        lines.line("row 1");
        status[0] = "... round 2 running, 0.1 s";
        lines.refresh();
        lines.line("row 2");
        lines.refresh();
        assertEquals("row 1\nrow 2\n... round 2 running, 0.1 s", screen(raw.toString()));
        lines.close();
        assertEquals("row 1\nrow 2\n", screen(raw.toString()));
    }

    @Test
    void holdKeepsRowsBackWhileAQuestionIsOpen() {
        StringWriter raw = new StringWriter();
        ConsoleLines lines = new ConsoleLines(new PrintWriter(raw), true);
        lines.startTicker(() -> "... working", Duration.ofHours(1));
        lines.line("row 1");
        lines.hold();
        lines.line("row 2");
        assertEquals("row 1\n", screen(raw.toString()));
        lines.release();
        assertEquals("row 1\nrow 2\n... working", screen(raw.toString()));
        lines.close();
    }

    @Test
    void longStatusIsCutSoItNeverWraps() {
        StringWriter raw = new StringWriter();
        ConsoleLines lines = new ConsoleLines(new PrintWriter(raw), true);
        lines.startTicker(() -> "x".repeat(200), Duration.ofHours(1));
        lines.refresh();
        String shown = screen(raw.toString());
        assertTrue(shown.length() <= 60, shown);
        lines.close();
    }
}
