package dev.ferry.cli;

/**
 * The exit codes of {@code migrate}, listed in {@code --help}. Scripts rely on them: never
 * renumber, only add.
 */
public final class ExitCode {
    /** Done (migrated, dry run converges, or detached while the migration goes on). */
    public static final int DONE = 0;
    /** A bug or an error the coordinator did not classify. */
    public static final int INTERNAL = 1;
    /** Bad command line: unknown option, malformed duration/size, missing pid. */
    public static final int USAGE = 2;
    /** The coordinator refused: no such pid or host, already migrating, not capable, unknown id. */
    public static final int REFUSED = 3;
    /** The migration failed and was rolled back: the process runs on the source. */
    public static final int FAILED_ROLLED_BACK = 4;
    /** The migration was cancelled: the process runs on the source. */
    public static final int CANCELLED = 5;
    /** The coordinator could not be reached or did not answer in time. */
    public static final int UNREACHABLE = 6;
    /** Dry run finished but predicts the migration would not converge within the limits. */
    public static final int WOULD_NOT_CONVERGE = 7;

    /** The text of {@code --help}'s exit code list, one "code:meaning" per entry. */
    static final String[] HELP = {
        "0:done: migrated, dry run converges, or detached (the migration goes on)",
        "1:internal error (a bug, or an error the coordinator did not classify)",
        "2:usage: bad option or argument (e.g. malformed duration or size)",
        "3:refused: no such pid or host, already migrating, host not capable, unknown id",
        "4:failed and rolled back: the process runs on the source",
        "5:cancelled: the process runs on the source",
        "6:unreachable: no coordinator answered in time",
        "7:dry run: would not converge within the limits",
    };

    private ExitCode() {
    }
}
