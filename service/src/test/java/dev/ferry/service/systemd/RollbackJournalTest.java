package dev.ferry.service.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A daemon that died mid-operation leaves records a restarted daemon finds and settles. */
class RollbackJournalTest {

    @Test
    void aRestartedDaemonFindsWhatTheDeadOneLeftAndTellsIfTheProcessIsStillThere(@TempDir Path run) throws Exception {
        Process workload = new ProcessBuilder("sleep", "600").start();
        try {
            RollbackJournal first = RollbackJournal.open(run);
            assertEquals(List.of(), first.leftovers());
            first.record("m-42", workload.pid(), Map.of("migration", "m-42", "peer", "host2"));
            RollbackJournal.Entry ended = first.record("m-43", workload.pid(), Map.of());
            ended.close();
            // ... the daemon is SIGKILLed here; a new one starts:

            RollbackJournal second = RollbackJournal.open(run);
            assertEquals(1, second.leftovers().size());
            RollbackJournal.Leftover leftover = second.leftovers().get(0);
            assertEquals("m-42", leftover.id());
            assertEquals(workload.pid(), leftover.process().pid());
            assertEquals(Optional.of("host2"), leftover.detail("peer"));
            assertTrue(leftover.processAlive());

            second.record("m-44", workload.pid(), Map.of());
            assertEquals(1, second.leftovers().size(), "this run's records are not leftovers of this run");

            workload.destroyForcibly();
            assertTrue(workload.waitFor(10, TimeUnit.SECONDS));
            assertFalse(leftover.processAlive(), "a process that exited is not signalled");
            leftover.discard();
            assertEquals(List.of("m-44"), RollbackJournal.open(run).leftovers().stream().map(RollbackJournal.Leftover::id).toList());
        } finally {
            workload.destroyForcibly();
        }
    }

    @Test
    void aReusedPidIsNotTheRecordedProcess() {
        ProcessIdentity me = ProcessIdentity.of(ProcessHandle.current().pid()).orElseThrow();
        assertTrue(me.alive());
        assertFalse(new ProcessIdentity(me.pid(), me.startTicks() + 1).alive(), "same pid, other start time");
        assertEquals(Optional.empty(), ProcessIdentity.of(Integer.MAX_VALUE));
    }

    @Test
    void recordingANonexistentProcessFails(@TempDir Path run) throws IOException {
        RollbackJournal journal = RollbackJournal.open(run);
        IOException e = assertThrows(IOException.class, () -> journal.record("m-1", Integer.MAX_VALUE, Map.of()));
        assertEquals("no process " + Integer.MAX_VALUE + " to record for m-1", e.getMessage());
    }

    @Test
    void anyIdMakesASafeFileNameAndAnInterruptedWriteIsDropped(@TempDir Path run) throws IOException {
        assertEquals("m-1.rollback", RollbackJournal.fileName("m-1"));
        assertEquals("%2e%2e%2fetc%2fpasswd.rollback", RollbackJournal.fileName("../etc/passwd"));
        Files.writeString(run.resolve("m-9.rollback.tmp"), "pid=");
        RollbackJournal journal = RollbackJournal.open(run);
        assertEquals(List.of(), journal.leftovers());
        assertFalse(Files.exists(run.resolve("m-9.rollback.tmp")));
        journal.record("../etc/passwd", ProcessHandle.current().pid(), Map.of());
        assertTrue(Files.exists(run.resolve("%2e%2e%2fetc%2fpasswd.rollback")));
        assertEquals("../etc/passwd", RollbackJournal.open(run).leftovers().get(0).id());
    }
}
