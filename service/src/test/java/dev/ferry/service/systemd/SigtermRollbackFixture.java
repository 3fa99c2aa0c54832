package dev.ferry.service.systemd;

import java.time.Duration;

/**
 * A daemon in miniature, run as its own JVM by {@link SigtermRollbackTest}: it starts a child
 * process, freezes it (SIGSTOP, as a migration's switch-over does), registers the rollback that
 * resumes it, says READY=1 with the child's pid, and waits to be stopped.
 */
public final class SigtermRollbackFixture {

    private SigtermRollbackFixture() {
    }

    public static void main(String[] args) throws Exception {
        // not inheritIO: if this fixture is killed before its rollback, the stopped child would keep
        // the test runner's output pipe open and hang the build (seen under load, session 5)
        Process frozen = new ProcessBuilder("sleep", "600").redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
        signal("STOP", frozen.pid());
        ServiceNotifier notifier = ServiceNotifier.fromEnvironment();
        GracefulShutdown shutdown = new GracefulShutdown(notifier, Duration.ofSeconds(20)).installSignalHandler();
        shutdown.register("migration-of-" + frozen.pid(), remaining -> signal("CONT", frozen.pid()));
        notifier.ready("frozen " + frozen.pid());
        shutdown.awaitShutdown(); // until SIGTERM has rolled back
    }

    private static void signal(String name, long pid) throws Exception {
        int exit = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start().waitFor();
        if (exit != 0) {
            throw new IllegalStateException("kill -" + name + " " + pid + " exited " + exit);
        }
    }
}
