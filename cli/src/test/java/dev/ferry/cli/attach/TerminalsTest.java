package dev.ferry.cli.attach;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which stdout gets the live status line: a terminal that can erase lines, nothing else. */
class TerminalsTest {
    @Test
    void onlyATerminalWithAUsableTermIsLive() {
        assertTrue(Terminals.liveTerminal("/dev/pts/3", "xterm-256color"));
        assertTrue(Terminals.liveTerminal("/dev/tty1", "linux"));
        assertFalse(Terminals.liveTerminal("pipe:[123456]", "xterm"), "a pipe");
        assertFalse(Terminals.liveTerminal("/home/op/watch.log", "xterm"), "migrate watch > file");
        assertFalse(Terminals.liveTerminal("/dev/null", "xterm"));
        assertFalse(Terminals.liveTerminal("", "xterm"), "no /proc");
        assertFalse(Terminals.liveTerminal("/dev/pts/3", "dumb"), "TERM=dumb");
        assertFalse(Terminals.liveTerminal("/dev/pts/3", null), "no TERM");
        assertFalse(Terminals.liveTerminal("/dev/pts/3", ""), "empty TERM");
    }

    @Test
    void noProgressKeepsStdinButDropsTheStatusLine() {
        Terminals t = new Terminals(true, true).withoutProgress();
        assertFalse(t.stdoutLive());
        assertTrue(t.stdinTerminal());
        assertFalse(Terminals.NONE.stdoutLive() || Terminals.NONE.stdinTerminal());
    }
}
