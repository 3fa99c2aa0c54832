package dev.ferry.service.systemd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon wired exactly as deploy/systemd/README.md tells the agent to wire itself, for the lab
 * run under systemd as PID 1 (deploy/lab/systemd-check): it freezes a child process as a
 * migration would, records it in the rollback journal, registers its SIGTERM rollback, pings the
 * watchdog while $RUNTIME_DIRECTORY/unhealthy is absent, and on start resumes what a killed
 * predecessor left frozen. Files for the check: $RUNTIME_DIRECTORY/frozen.pid.
 */
public final class LabServiceDaemon {

    private static final Logger log = LoggerFactory.getLogger(LabServiceDaemon.class);

    private LabServiceDaemon() {
    }

    public static void main(String[] args) throws Exception {
        Path runtime = Path.of(System.getenv().getOrDefault("RUNTIME_DIRECTORY", "/tmp/ferry-lab-daemon"));
        Files.deleteIfExists(runtime.resolve("unhealthy"));
        ServiceNotifier notifier = ServiceNotifier.fromEnvironment();
        GracefulShutdown shutdown = new GracefulShutdown(notifier, Duration.ofSeconds(20)).installSignalHandler();

        RollbackJournal journal = RollbackJournal.open(runtime.resolve("rollbacks"));
        for (RollbackJournal.Leftover leftover : journal.leftovers()) {
            if (leftover.processAlive()) {
                signal("CONT", leftover.process().pid());
                log.warn("Resumed process {} that a previous run left frozen ({})", leftover.process().pid(), leftover.id());
            } else {
                log.info("Process {} of {} is gone; nothing to resume", leftover.process().pid(), leftover.id());
            }
            leftover.discard();
        }

        ProcessBuilder sleeper = new ProcessBuilder("sleep", "3600");
        ServiceNotifier.scrub(sleeper.environment());
        Process child = sleeper.start();
        RollbackJournal.Entry record = journal.record("lab-migration", child.pid(), Map.of("migration", "lab-migration"));
        signal("STOP", child.pid());
        shutdown.register("lab-migration", remaining -> {
            signal("CONT", child.pid());
            record.close();
        });
        Files.writeString(runtime.resolve("frozen.pid"), Long.toString(child.pid()));

        shutdown.closeAtExit(WatchdogPinger.start(notifier, () -> Files.exists(runtime.resolve("unhealthy"))
                ? Health.failing("told to be unhealthy")
                : Health.ok("serving, 1 frozen process (" + child.pid() + ")")));
        log.warn("Lab daemon serving; process {} frozen", child.pid());
        log.info("An info line");
        notifier.ready("serving, 1 frozen process (" + child.pid() + ")");
        shutdown.awaitShutdown();
    }

    private static void signal(String name, long pid) throws Exception {
        int exit = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start().waitFor();
        if (exit != 0) {
            throw new IllegalStateException("kill -" + name + " " + pid + " exited " + exit);
        }
    }
}
