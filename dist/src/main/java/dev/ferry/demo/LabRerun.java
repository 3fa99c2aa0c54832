package dev.ferry.demo;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Re-runs {@code bin/ferry-demo} inside the lab VM ({@code deploy/lab/run-in-vm}) when this
 * kernel cannot switch over. The checkout is found from the jar's place
 * ({@code <checkout>/dist/target/ferry.jar}) or {@code FERRY_HOME}.
 */
final class LabRerun {
    private final Consumer<String> out;

    LabRerun(Consumer<String> out) {
        this.out = out;
    }

    int rerunInLab(List<String> demoArgs) throws IOException, InterruptedException {
        Optional<Path> checkout = checkout();
        if (checkout.isEmpty()) {
            out.accept("This kernel cannot switch over, and no checkout with deploy/lab/run-in-vm was found next to ferry.jar"
                    + " (set FERRY_HOME). Run with --dry-run to rehearse here.");
            return 1;
        }
        Path root = checkout.get();
        List<String> cmd = new ArrayList<>(List.of(root.resolve("deploy/lab/run-in-vm").toString(), "--",
                root.resolve("bin/ferry-demo").toString()));
        cmd.addAll(demoArgs);
        out.accept("This kernel lacks what a real switch-over needs: re-running the same demo inside the lab VM"
                + " (deploy/lab/run-in-vm: Debian's kernel under QEMU; booting takes a minute or more).");
        out.accept("  (bin/ferry-demo --dry-run rehearses here without switching over)");
        out.accept("$ " + String.join(" ", cmd));
        Process p = new ProcessBuilder(cmd).directory(root.toFile()).inheritIO().start();
        return p.waitFor();
    }

    static Optional<Path> checkout() {
        String home = System.getenv("FERRY_HOME");
        if (home != null && !home.isBlank() && isCheckout(Path.of(home))) {
            return Optional.of(Path.of(home));
        }
        try {
            Path jar = Path.of(LabRerun.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = jar.getParent(); p != null; p = p.getParent()) {
                if (isCheckout(p)) {
                    return Optional.of(p);
                }
            }
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static boolean isCheckout(Path p) {
        return Files.isExecutable(p.resolve("deploy/lab/run-in-vm")) && Files.isRegularFile(p.resolve("bin/ferry-demo"));
    }
}
