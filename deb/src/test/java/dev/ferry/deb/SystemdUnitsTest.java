package dev.ferry.deb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deploy/systemd as systemd itself reads it: `systemd-analyze verify`, `capability`, `security`. */
class SystemdUnitsTest {

    static final List<String> UNITS = List.of("ferry-agent.service", "ferry-agent@.service", "ferry-coordinator.service");
    /** What verify names for the template: an instance of it. */
    static final List<String> VERIFIED = List.of("ferry-agent.service", "ferry-agent@host1.service", "ferry-coordinator.service");
    private static final Pattern MISSING_LAUNCHER = Pattern.compile("[\\w@.-]+: Command (/usr/bin/ferry-(agent|coordinator)) is not executable: No such file or directory");

    private static Path units;

    @BeforeAll
    static void tools() throws Exception {
        Commands.require("systemd-analyze", "systemd");
        units = Commands.repoRoot().resolve("deploy/systemd");
    }

    /**
     * The complaints of `systemd-analyze verify` on units in {@code dir}, less one accepted kind: a
     * launcher that is not installed on this machine (the package test verifies with them present).
     */
    static List<String> verifyComplaints(Path dir) throws Exception {
        List<String> command = new ArrayList<>(List.of("systemd-analyze", "verify"));
        VERIFIED.forEach(u -> command.add(dir.resolve(u).toString()));
        Commands.Result result = Commands.run(command);
        List<String> complaints = new ArrayList<>();
        for (String line : result.lines()) {
            Matcher missing = MISSING_LAUNCHER.matcher(line);
            if (!(missing.matches() && !Files.exists(Path.of(missing.group(1))))) {
                complaints.add(line);
            }
        }
        if (result.exit() != 0 && complaints.isEmpty() && result.lines().stream().noneMatch(l -> MISSING_LAUNCHER.matcher(l).matches())) {
            complaints.add("systemd-analyze verify exited " + result.exit());
        }
        return complaints;
    }

    private static Path copyUnits(Path to) throws Exception {
        for (String unit : UNITS) {
            Files.copy(units.resolve(unit), to.resolve(unit), StandardCopyOption.REPLACE_EXISTING);
        }
        return to;
    }

    @Test
    void verifyFindsNothingToComplainAbout(@TempDir Path dir) throws Exception {
        assertEquals(List.of(), verifyComplaints(copyUnits(dir)));
    }

    @Test
    void verifyWouldCatchABrokenUnit(@TempDir Path dir) throws Exception {
        copyUnits(dir);
        Path agent = dir.resolve("ferry-agent.service");
        Files.writeString(agent, Files.readString(agent).replace("WatchdogSec=30s", "WatchdogSec=thirty").replace("[Service]", "[Service]\nRestartt=always"));
        List<String> complaints = verifyComplaints(dir);
        assertTrue(complaints.stream().anyMatch(c -> c.contains("thirty")), complaints.toString());
        assertTrue(complaints.stream().anyMatch(c -> c.contains("Restartt")), complaints.toString());
    }

    @Test
    void everyCapabilityNamedIsOneSystemdKnows() throws Exception {
        // systemd ignores an unknown capability name without a word, so check the names here.
        Set<String> known = Commands.run(List.of("systemd-analyze", "capability")).lines().stream().skip(1)
                .map(l -> l.split("\\s+")[0].toUpperCase()).collect(Collectors.toSet());
        assertTrue(known.contains("CAP_CHECKPOINT_RESTORE"), "systemd knows CAP_CHECKPOINT_RESTORE: " + known);
        for (String unit : UNITS) {
            for (String set : UnitFile.read(units.resolve(unit)).values("Service", "CapabilityBoundingSet")) {
                for (String capability : set.isEmpty() ? new String[0] : set.split("\\s+")) {
                    assertTrue(known.contains(capability.replaceFirst("^~", "")), unit + ": unknown capability " + capability);
                }
            }
        }
    }

    @Test
    void theAgentKeepsWhatCriuAndPtraceNeedAndNothingItDoesNot() throws Exception {
        UnitFile agent = UnitFile.read(units.resolve("ferry-agent.service"));
        Set<String> bounding = agent.values("Service", "CapabilityBoundingSet").stream()
                .flatMap(v -> Arrays.stream(v.split("\\s+"))).collect(Collectors.toSet());
        assertTrue(bounding.containsAll(Set.of("CAP_SYS_PTRACE", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE", "CAP_KILL", "CAP_DAC_OVERRIDE")), bounding.toString());
        for (String never : List.of("CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_BOOT", "CAP_MAC_ADMIN", "CAP_BPF")) {
            assertTrue(!bounding.contains(never), "agent must not hold " + never);
        }
        // Every capability granted is explained in a comment (the "why").
        String text = Files.readString(units.resolve("ferry-agent.service"));
        for (String capability : bounding) {
            assertTrue(Pattern.compile("^#\\s+(CAP_\\w+ )*" + capability + "\\b", Pattern.MULTILINE).matcher(text).find(), "no comment says why " + capability);
        }
        assertEquals("process", agent.value("Service", "KillMode"), "stopping the agent must not kill workloads restored into its cgroup");
        assertEquals(List.of(), agent.values("Service", "SystemCallFilter"), "seccomp filters are inherited by restored workloads");
        assertEquals(List.of(), agent.values("Service", "NoNewPrivileges"), "no_new_privs is inherited by restored workloads");
    }

    @Test
    void bothDaemonsAreNotifyServicesWithWatchdogAndRestart() throws Exception {
        for (String unit : UNITS) {
            UnitFile file = UnitFile.read(units.resolve(unit));
            assertEquals("notify", file.value("Service", "Type"), unit);
            assertEquals("main", file.value("Service", "NotifyAccess"), unit);
            assertEquals("30s", file.value("Service", "WatchdogSec"), unit);
            assertEquals("on-failure", file.value("Service", "Restart"), unit);
            assertEquals("143", file.value("Service", "SuccessExitStatus"), unit + ": a JVM stopped by SIGTERM exits 143");
            assertTrue(file.value("Service", "StateDirectory").startsWith("ferry/"), unit);
            assertTrue(file.value("Service", "RuntimeDirectory").startsWith("ferry/"), unit);
            assertEquals("multi-user.target", file.value("Install", "WantedBy"), unit);
        }
        // The agent's rollback deadline (60 s) plus closing must fit in TimeoutStopSec.
        assertEquals("90s", UnitFile.read(units.resolve("ferry-agent.service")).value("Service", "TimeoutStopSec"));
        UnitFile coordinator = UnitFile.read(units.resolve("ferry-coordinator.service"));
        assertEquals("ferry", coordinator.value("Service", "User"));
        assertEquals("", coordinator.value("Service", "CapabilityBoundingSet"));
    }

    @Test
    void theTemplateDiffersFromThePlainAgentOnlyInItsInstance() throws Exception {
        UnitFile plain = UnitFile.read(units.resolve("ferry-agent.service"));
        UnitFile template = UnitFile.read(units.resolve("ferry-agent@.service"));
        for (String section : plain.sections().keySet()) {
            List<String> a = plain.sections().get(section).stream().map(kv -> kv[0] + "=" + kv[1]).toList();
            List<String> b = template.sections().get(section).stream().map(kv -> kv[0] + "=" + kv[1]).toList();
            List<String> onlyPlain = a.stream().filter(l -> !b.contains(l)).toList();
            List<String> onlyTemplate = b.stream().filter(l -> !a.contains(l)).toList();
            assertTrue(onlyTemplate.stream().allMatch(l -> l.contains("%i")), section + ": " + onlyTemplate);
            assertEquals(onlyPlain.size(), onlyTemplate.size(), section + ": " + onlyPlain + " vs " + onlyTemplate);
        }
        assertEquals("/usr/bin/ferry-agent --config=/etc/ferry/agent-%i.conf --name=%i --data-dir=%S/ferry/agent-%i",
                template.value("Service", "ExecStart"));
    }

    @Test
    void theCoordinatorSandboxRatesWellAndTheAgentsIsKnownToBeOpen() throws Exception {
        double coordinator = exposure("ferry-coordinator.service");
        assertTrue(coordinator <= 2.0, "coordinator exposure " + coordinator);
        double agent = exposure("ferry-agent.service");
        assertTrue(agent > coordinator, "agent " + agent + " (root, CRIU) vs coordinator " + coordinator);
    }

    private static double exposure(String unit) throws Exception {
        Commands.Result result = Commands.run(List.of("systemd-analyze", "security", "--offline=true", "--no-pager", units.resolve(unit).toString()));
        Matcher level = Pattern.compile("Overall exposure level for \\S+: (\\d+\\.\\d+)").matcher(result.output());
        assertTrue(level.find(), result.output());
        return Double.parseDouble(level.group(1));
    }
}
