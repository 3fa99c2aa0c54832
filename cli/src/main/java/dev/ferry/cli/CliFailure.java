package dev.ferry.cli;

/**
 * A failure the operator gets as one line on stderr and an {@link ExitCode}. The message names
 * the problem and, where there is one, the way out; no stack trace unless {@code --verbose}.
 */
public final class CliFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public CliFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CliFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
