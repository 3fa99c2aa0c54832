package dev.ferry.deb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .deb that jdeb built in this module's package phase, as dpkg sees it. */
class DebPackageTest {

    private static Path deb;
    /** path (without leading "."), mode string ("-rwxr-xr-x"), owner. */
    private static Map<String, String[]> contents;

    @BeforeAll
    static void list() throws Exception {
        Commands.require("dpkg-deb", "dpkg");
        deb = Path.of(System.getProperty("ferry.deb", "target/ferry.deb"));
        assertTrue(Files.isRegularFile(deb), "the package was built: " + deb);
        Commands.Result listing = Commands.run(List.of("dpkg-deb", "--contents", deb.toString()));
        assertEquals(0, listing.exit(), listing.output());
        contents = new TreeMap<>();
        for (String line : listing.lines()) {
            String[] fields = line.split("\\s+");
            String path = fields[fields.length - 1].replaceFirst("^\\./", "/");
            contents.put(path, new String[] {fields[0], fields[1]});
        }
        System.out.println("dpkg-deb --contents " + deb.getFileName() + ":\n" + listing.output());
    }

    private static void assertFile(String path, String mode) {
        String[] entry = contents.get(path);
        assertTrue(entry != null, path + " is in the package: " + contents.keySet());
        assertEquals(mode, entry[0], path);
        assertEquals("root/root", entry[1], path);
    }

    @Test
    void installsJarLaunchersUnitsConfigsAndDocs() {
        assertFile("/usr/share/ferry/ferry.jar", "-rw-r--r--");
        assertFile("/usr/share/ferry/migrate-startup.sh", "-rw-r--r--");
        for (String launcher : List.of("migrate", "ferry-agent", "ferry-coordinator", "ferry-certs")) {
            assertFile("/usr/bin/" + launcher, "-rwxr-xr-x");
        }
        for (String unit : SystemdUnitsTest.UNITS) {
            assertFile("/lib/systemd/system/" + unit, "-rw-r--r--");
        }
        for (String config : List.of("/etc/ferry/agent.conf", "/etc/ferry/coordinator.conf", "/etc/default/ferry")) {
            assertFile(config, "-rw-r--r--");
        }
        assertFile("/usr/share/doc/ferry/copyright", "-rw-r--r--");
        assertFile("/usr/share/doc/ferry/README.systemd.md", "-rw-r--r--");
        assertFile("/usr/share/doc/ferry/zookeeper/zoo.cfg", "-rw-r--r--");
    }

    @Test
    void controlDeclaresDependenciesAndConffiles(@TempDir Path control) throws Exception {
        assertEquals(0, Commands.run(List.of("dpkg-deb", "--control", deb.toString(), control.toString())).exit());
        String fields = Files.readString(control.resolve("control"));
        assertTrue(fields.contains("\nDepends: default-jre-headless (>= 2:1.17) | java17-runtime-headless, adduser, init-system-helpers\n"), fields);
        assertTrue(fields.contains("\nRecommends: criu\n"), fields);
        assertTrue(fields.contains("\nArchitecture: all\n"), fields);
        assertEquals(List.of("/etc/default/ferry", "/etc/ferry/agent.conf", "/etc/ferry/coordinator.conf"),
                Files.readAllLines(control.resolve("conffiles")).stream().map(String::strip).filter(l -> !l.isEmpty()).sorted().toList());
    }

    @Test
    void maintainerScriptsAreValidShellAndManageUserAndUnits(@TempDir Path control) throws Exception {
        assertEquals(0, Commands.run(List.of("dpkg-deb", "--control", deb.toString(), control.toString())).exit());
        List<String> problems = new ArrayList<>();
        for (String script : List.of("postinst", "prerm", "postrm")) {
            Path file = control.resolve(script);
            assertTrue(Files.isExecutable(file), script + " is executable");
            assertTrue(Files.readString(file).startsWith("#!/bin/sh\n"), script);
            Commands.Result syntax = Commands.run(List.of("sh", "-n", file.toString()));
            if (syntax.exit() != 0) {
                problems.add(script + ": " + syntax.output());
            }
        }
        assertEquals(List.of(), problems);
        String postinst = Files.readString(control.resolve("postinst"));
        assertTrue(postinst.contains("adduser --system --ingroup ferry"), "postinst creates the ferry system user");
        assertTrue(Files.readString(control.resolve("prerm")).contains("systemctl stop ferry-coordinator.service"), "prerm stops the units");
    }

    @Test
    void launchersExecTheJvmOnTheInstalledJar(@TempDir Path root) throws Exception {
        assertEquals(0, Commands.run(List.of("dpkg-deb", "--extract", deb.toString(), root.toString())).exit());
        Map<String, String> mains = Map.of("ferry-agent", "dev.ferry.agent.AgentMain",
                "ferry-coordinator", "dev.ferry.coordinator.CoordinatorMain", "migrate", "dev.ferry.cli.MigrateCommand",
                "ferry-certs", "dev.ferry.service.tls.CertsMain");
        for (Map.Entry<String, String> launcher : mains.entrySet()) {
            Path file = root.resolve("usr/bin").resolve(launcher.getKey());
            assertEquals(0, Commands.run(List.of("sh", "-n", file.toString())).exit(), file.toString());
            String text = Files.readString(file);
            assertTrue(text.contains("exec \"${JAVA_HOME:+$JAVA_HOME/bin/}java\""), launcher.getKey() + " execs the JVM (keeps the PID systemd watches)");
            assertTrue(text.contains("-cp /usr/share/ferry/ferry.jar " + launcher.getValue() + " \"$@\""), text);
        }
        // one start-up logic for the CLI: the package's copy is the checkout's bin/.migrate-startup
        assertEquals(Files.readString(Commands.repoRoot().resolve("bin/.migrate-startup")),
                Files.readString(root.resolve("usr/share/ferry/migrate-startup.sh")));
        assertTrue(Files.readString(root.resolve("usr/bin/migrate")).contains(". /usr/share/ferry/migrate-startup.sh"));
    }

    /**
     * The packaged units, verified with the packaged launchers in place: /usr/bin is overlaid with
     * the package's /usr/bin in a private mount namespace (root only), so verify also checks that
     * ExecStart names an executable. Without that, verify runs on the host's /usr/bin and only the
     * launchers' absence is accepted.
     */
    @Test
    void packagedUnitsVerifyWithPackagedLaunchers(@TempDir Path root) throws Exception {
        Commands.require("systemd-analyze", "systemd");
        assertEquals(0, Commands.run(List.of("dpkg-deb", "--extract", deb.toString(), root.toString())).exit());
        Path units = root.resolve("lib/systemd/system");
        String script = "mount -t overlay overlay -o lowerdir=" + root.resolve("usr/bin") + ":/usr/bin /usr/bin && "
                + "test -x /usr/bin/ferry-agent && exec systemd-analyze verify "
                + SystemdUnitsTest.VERIFIED.stream().map(u -> units.resolve(u).toString()).reduce((a, b) -> a + " " + b).orElseThrow();
        Commands.Result overlaid = Commands.run(List.of("unshare", "--mount", "sh", "-c", script));
        if (overlaid.exit() == 0 || overlaid.output().contains(units.toString())) {
            assertEquals(0, overlaid.exit(), overlaid.output());
            assertEquals("", overlaid.output().strip(), "systemd-analyze verify with the launchers installed");
        } else {
            System.out.println("No private mount namespace here (" + overlaid.output().strip() + "): verifying against the host's /usr/bin");
            assertEquals(List.of(), SystemdUnitsTest.verifyComplaints(units));
        }
        for (String unit : SystemdUnitsTest.UNITS) {
            assertEquals(Files.readString(Commands.repoRoot().resolve("deploy/systemd").resolve(unit)), Files.readString(units.resolve(unit)), unit);
        }
    }
}
