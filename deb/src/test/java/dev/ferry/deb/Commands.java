package dev.ferry.deb;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the system tools the checks need (systemd-analyze, dpkg-deb, sh) and keeps what they say. */
final class Commands {

    record Result(int exit, String output) {
        List<String> lines() {
            return output.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    private Commands() {
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        Path output = Files.createTempFile("ferry-deb-cmd", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("timed out after 120 s: " + command);
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** Fails with an install hint when a tool is missing, rather than skipping silently. */
    static void require(String tool, String debianPackage) throws IOException, InterruptedException {
        if (run(List.of("sh", "-c", "command -v " + tool)).exit() != 0) {
            throw new AssertionError(tool + " is missing: apt-get install " + debianPackage);
        }
    }

    static Path repoRoot() {
        Path root = Path.of(System.getProperty("ferry.repo.root", "..")).toAbsolutePath().normalize();
        if (!Files.isDirectory(root.resolve("deploy/systemd"))) {
            throw new AssertionError("not the repository root (no deploy/systemd): " + root);
        }
        return root;
    }
}
