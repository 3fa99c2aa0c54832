package dev.ferry.service.tls;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The PEM files one Ferry process needs for mutual TLS: its own certificate (chain), its
 * private key (PKCS#8, unencrypted, mode 0600) and the CA certificate(s) it trusts for peers.
 * The layout {@code ferry-certs} writes is {@link #inDirectory}: {@code <dir>/<name>.crt},
 * {@code <dir>/<name>.key}, {@code <dir>/ca.crt}.
 */
public record TlsFiles(Path certificateChain, Path privateKey, Path trustedCa) {

    public static final String CA_CERTIFICATE = "ca.crt";

    /** The files {@code ferry-certs issue --name NAME --dir DIR} wrote. */
    public static TlsFiles inDirectory(Path dir, String name) {
        return new TlsFiles(dir.resolve(name + ".crt"), dir.resolve(name + ".key"), dir.resolve(CA_CERTIFICATE));
    }

    /** Fails with a message naming the first missing or unreadable file (before any TLS setup). */
    public TlsFiles requireReadable() {
        for (Path p : new Path[] {certificateChain, privateKey, trustedCa}) {
            if (!Files.isReadable(p)) {
                throw new TlsConfigurationException("TLS file " + p + " does not exist or is not readable"
                        + " (create development certificates with: bin/ferry-certs dev --dir DIR HOST...)");
            }
        }
        return this;
    }
}
