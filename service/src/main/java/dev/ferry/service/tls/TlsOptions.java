package dev.ferry.service.tls;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The command-line options every Ferry main shares for transport security (a picocli
 * {@code @Mixin}): {@code --certs DIR --cert-name NAME} for the ferry-certs layout, or the three
 * files one by one, or {@code --insecure}. Secure by default: with neither, the process refuses
 * to start and says how to get certificates. The options are inherited by subcommands (the
 * {@code migrate} CLI takes them after any of its subcommands).
 */
public final class TlsOptions {

    @Option(names = "--certs", scope = ScopeType.INHERIT, paramLabel = "DIR", description = "Directory written by ferry-certs (ca.crt, NAME.crt, NAME.key).")
    Path certsDir;

    @Option(names = "--cert-name", scope = ScopeType.INHERIT, paramLabel = "NAME", description = "Which certificate in --certs to use (default: ${DEFAULT-VALUE} or this host's name).")
    String certName;

    @Option(names = "--tls-cert", scope = ScopeType.INHERIT, paramLabel = "FILE", description = "PEM certificate (chain) of this process.")
    Path certificate;

    @Option(names = "--tls-key", scope = ScopeType.INHERIT, paramLabel = "FILE", description = "PEM PKCS#8 private key of this process.")
    Path key;

    @Option(names = "--tls-ca", scope = ScopeType.INHERIT, paramLabel = "FILE", description = "PEM CA certificate(s) trusted for peers.")
    Path ca;

    @Option(names = "--insecure", scope = ScopeType.INHERIT, description = "Plaintext gRPC, no authentication (debugging only; logs a warning).")
    boolean insecure;

    /**
     * The transport security these options ask for. {@code defaultName} is the certificate name
     * used with {@code --certs} when {@code --cert-name} is absent (the agent's host name,
     * "coordinator", "operator"); {@code component} names this process in the insecure warning.
     */
    public TransportSecurity toTransportSecurity(String defaultName, String component) {
        if (insecure) {
            if (certsDir != null || certificate != null) {
                throw new TlsConfigurationException("--insecure contradicts --certs/--tls-cert: choose one");
            }
            return TransportSecurity.insecure(component);
        }
        return TransportSecurity.mutualTls(files(defaultName));
    }

    /** Whether {@code --insecure} was given (a client may then build plaintext credentials itself). */
    public boolean insecure() {
        if (insecure && (certsDir != null || certificate != null)) {
            throw new TlsConfigurationException("--insecure contradicts --certs/--tls-cert: choose one");
        }
        return insecure;
    }

    /**
     * For clients that find their certificate themselves (the migrate CLI): the files given with
     * --tls-*, else in --certs, else in the first of {@code searchDirs} (skipping nulls) that holds
     * ca.crt and one of {@code names} (tried in order; --cert-name overrides them). Fails with one
     * line naming every place looked at.
     */
    public TlsFiles findFiles(List<String> names, List<Path> searchDirs) {
        if (certificate != null || key != null || ca != null) {
            return files(names.get(0));
        }
        List<String> wanted = certName != null ? List.of(certName) : names;
        List<Path> dirs = new ArrayList<>();
        if (certsDir != null) {
            dirs.add(certsDir);
        } else {
            searchDirs.stream().filter(d -> d != null).forEach(dirs::add);
        }
        for (Path dir : dirs) {
            Optional<TlsFiles> found = wanted.stream().map(n -> TlsFiles.inDirectory(dir, n))
                    .filter(f -> Files.exists(f.certificateChain()) && Files.exists(f.privateKey()) && Files.exists(f.trustedCa()))
                    .findFirst();
            if (found.isPresent()) {
                return found.get();
            }
        }
        throw new TlsConfigurationException("no TLS certificate found: looked for ca.crt with "
                + String.join(".crt/", wanted) + ".crt (and .key) in " + dirs
                + "; pass --certs DIR (create them with bin/ferry-certs dev --dir DIR HOST...), or --insecure for a plaintext coordinator");
    }

    TlsFiles files(String defaultName) {
        if (certificate != null || key != null || ca != null) {
            if (certificate == null || key == null || ca == null) {
                throw new TlsConfigurationException("--tls-cert, --tls-key and --tls-ca go together");
            }
            return new TlsFiles(certificate, key, ca);
        }
        if (certsDir != null) {
            return TlsFiles.inDirectory(certsDir, certName != null ? certName : defaultName);
        }
        throw new TlsConfigurationException("no TLS certificates configured: pass --certs DIR (create them with"
                + " bin/ferry-certs dev --dir DIR HOST...) or --tls-cert/--tls-key/--tls-ca, or --insecure to run without TLS");
    }
}
