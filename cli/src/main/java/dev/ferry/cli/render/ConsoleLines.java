package dev.ferry.cli.render;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Permanent lines plus, on a terminal, one transient status line at the bottom ("round 4
 * running, 1.3 s") that a ticker refreshes. Invariant: the status line, when shown, is the last
 * thing on the screen and the cursor is at its end; it is erased ({@code CR}, erase-line) before
 * anything else is printed, so rows never mix with it. It is kept short so that it never wraps
 * (an erase-line only clears one physical line). All output goes through this object's lock.
 */
public final class ConsoleLines implements AutoCloseable {
    private static final int MAX_STATUS = 60;
    private static final String ERASE_LINE = "\r\033[2K";

    private final PrintWriter out;
    private final boolean live;
    private final List<String> heldLines = new ArrayList<>();
    private Supplier<String> statusSource = () -> "";
    private ScheduledExecutorService ticker;
    private boolean statusShown;
    private boolean held;

    /** @param live stdout is a terminal: show the transient status line */
    public ConsoleLines(PrintWriter out, boolean live) {
        this.out = out;
        this.live = live;
    }

    public boolean live() {
        return live;
    }

    /** Starts refreshing the status line from {@code source} every {@code period} (live only). */
    public synchronized void startTicker(Supplier<String> source, Duration period) {
        statusSource = source;
        if (!live || ticker != null) {
            return;
        }
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "migrate-status-line");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(this::refresh, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Prints a permanent line (held back while a prompt is open). */
    public synchronized void line(String text) {
        if (held) {
            heldLines.add(text);
            return;
        }
        erase();
        out.println(text);
        draw();
        out.flush();
    }

    /** Redraws the status line now. */
    public synchronized void refresh() {
        if (held || !live) {
            return;
        }
        erase();
        draw();
        out.flush();
    }

    /** Clears the status line and holds back output: the caller is about to ask a question. */
    public synchronized void hold() {
        erase();
        out.flush();
        held = true;
    }

    /** Prints what was held back and resumes. */
    public synchronized void release() {
        held = false;
        for (String l : heldLines) {
            out.println(l);
        }
        heldLines.clear();
        draw();
        out.flush();
    }

    private void erase() {
        if (statusShown) {
            out.print(ERASE_LINE);
            statusShown = false;
        }
    }

    private void draw() {
        if (!live) {
            return;
        }
        String s = statusSource.get();
        if (s == null || s.isEmpty()) {
            return;
        }
        out.print(s.length() > MAX_STATUS ? s.substring(0, MAX_STATUS - 3) + "..." : s);
        statusShown = true;
    }

    @Override
    public void close() {
        ScheduledExecutorService t;
        synchronized (this) {
            t = ticker;
            ticker = null;
            statusSource = () -> "";
            held = false;
            erase();
            out.flush();
        }
        if (t != null) {
            t.shutdownNow();
        }
    }
}
