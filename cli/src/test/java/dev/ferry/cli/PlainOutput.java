package dev.ferry.cli;

/**
 * What a captured (non-terminal) run of the CLI may print: lines, never the live status line's
 * carriage returns or ANSI escapes (a pipe, a file or a CI log would keep them as garbage).
 */
public final class PlainOutput {
    private PlainOutput() {
    }

    /** Throws naming the first {@code CR} or {@code ESC} in any of {@code texts}; returns normally otherwise. */
    public static void assertPlain(String... texts) {
        for (String text : texts) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '\r' || c == '\u001b') {
                    throw new AssertionError(String.format("%s at offset %d of non-terminal output:%n%s",
                            c == '\r' ? "CR" : "ESC", i, text.replace("\r", "<CR>").replace("\u001b", "<ESC>")));
                }
            }
        }
    }
}
