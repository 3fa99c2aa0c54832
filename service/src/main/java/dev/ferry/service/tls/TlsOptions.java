package dev.ferry.service.tls;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The command-line options every Ferry main shares for transport security (a picocli
 * {@code @Mixin}): {@code --certs DIR --cert-name NAME} for the ferry-certs layout, or the three
 * files one by one, or {@code --insecure}. Secure by default: with neither, the process refuses
 * to start and says how to get certificates.
 */
public final class TlsOptions {

    @Option(names = "--certs", paramLabel = "DIR", description = "Directory written by ferry-certs (ca.crt, NAME.crt, NAME.key).")
    Path certsDir;

    @Option(names = "--cert-name", paramLabel = "NAME", description = "Which certificate in --certs to use (default: ${DEFAULT-VALUE} or this host's name).")
    String certName;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate (chain) of this process.")
    Path certificate;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM PKCS#8 private key of this process.")
    Path key;

    @Option(names = "--tls-ca", paramLabel = "FILE", description = "PEM CA certificate(s) trusted for peers.")
    Path ca;

    @Option(names = "--insecure", description = "Plaintext gRPC, no authentication (debugging only; logs a warning).")
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
