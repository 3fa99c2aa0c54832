package dev.ferry.service.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM (what {@code systemctl stop} sends) to a daemon JVM with a frozen process: the rollback
 * resumes the process before the JVM exits, and systemd hears STOPPING=1.
 */
class SigtermRollbackTest {

    @Test
    void sigtermResumesTheFrozenProcessBeforeTheDaemonExits() throws Exception {
        try (NotifySocketListener systemd = NotifySocketListener.onAbstractName()) {
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            ProcessBuilder builder = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                    SigtermRollbackFixture.class.getName()).inheritIO();
            builder.environment().putAll(systemd.environment());
            Process daemon = builder.start();
            long child = -1;
            try {
                String ready = systemd.awaitLine("READY=1");
                child = Long.parseLong(ready.lines().filter(l -> l.startsWith("STATUS=frozen ")).findFirst().orElseThrow()
                        .substring("STATUS=frozen ".length()));
                assertEquals('T', state(child), "the fixture froze its child");

                daemon.destroy(); // SIGTERM

                assertTrue(systemd.awaitLine("STOPPING=1").contains("rolling back 1 unfinished operation(s)"));
                assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "the daemon exits after its rollback");
                assertEquals(143, daemon.exitValue(), "exit status of a JVM ended by SIGTERM");
                char after = state(child);
                assertTrue(after == 'S' || after == 'R', "the frozen process runs again, state " + after);
            } finally {
                daemon.destroyForcibly();
                if (child > 0) {
                    ProcessHandle.of(child).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
    }

    /** The state letter in /proc/PID/stat (after the parenthesised command name). */
    private static char state(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }
}
