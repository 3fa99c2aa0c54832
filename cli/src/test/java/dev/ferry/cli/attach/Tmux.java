package dev.ferry.cli.attach;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** A real terminal: one tmux server on a private socket, one session of a fixed size. */
final class Tmux implements AutoCloseable {
    private final String socket = "ferry-cli-test-" + UUID.randomUUID();

    static boolean available() {
        try {
            return new ProcessBuilder("tmux", "-V").redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code shellCommand} in a new session; after it ends the pane shows "EXIT=<code>". */
    Tmux start(int width, int height, String shellCommand) throws IOException, InterruptedException {
        tmux("new-session", "-d", "-s", "t", "-x", Integer.toString(width), "-y", Integer.toString(height),
                "env TERM=xterm-256color bash --norc --noprofile -c '" + shellCommand.replace("'", "'\\''")
                        + "; echo EXIT=$?; sleep 600'");
        return this;
    }

    /** The visible screen, one string per row, trailing blanks trimmed. */
    List<String> screen() throws IOException, InterruptedException {
        String text = tmux("capture-pane", "-p", "-t", "t");
        List<String> rows = new ArrayList<>();
        text.lines().forEach(l -> rows.add(l.stripTrailing()));
        return rows;
    }

    void sendKeys(String... keys) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("send-keys", "-t", "t"));
        args.addAll(List.of(keys));
        tmux(args.toArray(String[]::new));
    }

    /** Waits until some screen row contains {@code text}; returns the screen. */
    List<String> awaitText(String text, Duration within) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            List<String> s = screen();
            if (s.stream().anyMatch(l -> l.contains(text))) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("'" + text + "' not on screen within " + within + ":\n" + String.join("\n", s));
            }
            Thread.sleep(50); // polling the screen for a condition
        }
    }

    private String tmux(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket, "-f", "/dev/null"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("tmux " + String.join(" ", args) + " failed: " + out);
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            new ProcessBuilder("tmux", "-L", socket, "kill-server").redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
