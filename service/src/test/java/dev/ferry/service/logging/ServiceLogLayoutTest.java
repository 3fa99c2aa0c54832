package dev.ferry.service.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The daemons' real logback.xml (dist), configured into a private logger context. */
class ServiceLogLayoutTest {

    private static final Path LOGBACK_XML = Path.of(System.getProperty("ferry.repo.root", "../"), "dist/src/main/resources/logback.xml");

    private static List<String> logThroughDistConfig(String mode) throws Exception {
        assertTrue(Files.exists(LOGBACK_XML), LOGBACK_XML + " exists");
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter()); // a context of our own has none
        context.putProperty("FERRY_LOG_MODE", mode);
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            configurator.doConfigure(LOGBACK_XML.toFile());
            Logger agent = context.getLogger("dev.ferry.agent.AgentMain");
            agent.info("serving on {}", ":7070");
            agent.debug("not shown at INFO");
            agent.warn("two\nlines");
            agent.error("rollback of migration m-1 failed", new IOException("peer unreachable", new IllegalStateException("cause")));
            context.getLogger("org.apache.zookeeper.ClientCnxn").info("library chatter below WARN");
            context.stop();
        } finally {
            System.setErr(stderr);
        }
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void journalModeWritesOneLinePerEventWithItsSyslogPriorityAndNoTimestamp() throws Exception {
        List<String> lines = logThroughDistConfig("journal");
        assertEquals(3, lines.size(), String.join("\n", lines));
        assertEquals("<6>INFO  [main] dev.ferry.agent.AgentMain - serving on :7070", lines.get(0));
        assertEquals("<4>WARN  [main] dev.ferry.agent.AgentMain - two | lines", lines.get(1));
        String error = lines.get(2);
        assertTrue(error.startsWith("<3>ERROR [main] dev.ferry.agent.AgentMain - rollback of migration m-1 failed | java.io.IOException: peer unreachable | at "), error);
        assertTrue(error.contains("Caused by: java.lang.IllegalStateException: cause"), error);
    }

    @Test
    void consoleModeStampsEachLine() throws Exception {
        List<String> lines = logThroughDistConfig("console");
        assertTrue(lines.get(0).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[main] dev\\.ferry\\.agent\\.AgentMain - serving on :7070"), lines.get(0));
        assertFalse(lines.get(0).startsWith("<"));
        assertTrue(lines.size() > 4, "stack trace on its own lines");
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("java.io.IOException: peer unreachable")));
    }

    @Test
    void stderrIsTheJournalOnlyWhenJournalStreamNamesIt() {
        Optional<JournalStream.FileIdentity> stderr = JournalStream.identityOf(Path.of("/proc/self/fd/2"));
        assertTrue(stderr.isPresent(), "fstat of our own stderr");
        String mine = Long.toUnsignedString(stderr.get().device()) + ":" + Long.toUnsignedString(stderr.get().inode());
        assertTrue(JournalStream.stderrIsJournal(Map.of("JOURNAL_STREAM", mine), stderr));
        assertFalse(JournalStream.stderrIsJournal(Map.of("JOURNAL_STREAM", "1:2"), stderr), "inherited, but stderr was redirected");
        assertFalse(JournalStream.stderrIsJournal(Map.of(), stderr));
        assertFalse(JournalStream.stderrIsJournal(Map.of("JOURNAL_STREAM", "garbage"), stderr));
    }

    @Test
    void levelsMapToSyslogPriorities() {
        assertEquals(3, ServiceLogLayout.syslogPriority(ch.qos.logback.classic.Level.ERROR));
        assertEquals(4, ServiceLogLayout.syslogPriority(ch.qos.logback.classic.Level.WARN));
        assertEquals(6, ServiceLogLayout.syslogPriority(ch.qos.logback.classic.Level.INFO));
        assertEquals(7, ServiceLogLayout.syslogPriority(ch.qos.logback.classic.Level.DEBUG));
        assertEquals(7, ServiceLogLayout.syslogPriority(ch.qos.logback.classic.Level.TRACE));
    }
}
