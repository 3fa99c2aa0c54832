package dev.ferry.cli.connect;

import dev.ferry.cli.CliFailure;
import dev.ferry.cli.ExitCode;
import dev.ferry.service.tls.DevCertificates;
import dev.ferry.service.tls.TlsConfigurationException;
import dev.ferry.service.tls.TlsFiles;
import dev.ferry.service.tls.TlsOptions;
import dev.ferry.service.tls.TransportSecurity;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The CLI's credentials towards a coordinator: mutual TLS with an operator certificate (or a
 * viewer's, which may only look), found in {@code --certs DIR}, else {@code $FERRY_CERTS}, else
 * {@code ~/.config/ferry/certs}, else {@code /etc/ferry/certs}; plaintext only with
 * {@code --insecure}. A missing or bad certificate is a one-line usage error (exit 2).
 */
public final class ClientSecurity {
    public static final String ENV = "FERRY_CERTS";
    public static final Path SYSTEM_DIR = Path.of("/etc/ferry/certs");
    /** Certificate names tried in each directory, in order; --cert-name overrides. */
    static final List<String> NAMES = List.of(DevCertificates.OPERATOR, DevCertificates.VIEWER);

    private ClientSecurity() {
    }

    /** The directories searched when no --certs is given, in order. */
    public static List<Path> searchDirs(Map<String, String> env, String userHome) {
        List<Path> dirs = new ArrayList<>();
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            dirs.add(Path.of(fromEnv.trim()));
        }
        if (userHome != null && !userHome.isBlank()) {
            dirs.add(Path.of(userHome, ".config", "ferry", "certs"));
        }
        dirs.add(SYSTEM_DIR);
        return dirs;
    }

    /** Channel credentials for {@code options} (TLS contexts built and files checked now). */
    public static ChannelCredentials credentials(TlsOptions options, Map<String, String> env, String userHome) {
        try {
            if (options.insecure()) {
                // No warning line here: the operator typed --insecure, and the table must stay clean.
                return InsecureChannelCredentials.create();
            }
            TlsFiles files = options.findFiles(NAMES, searchDirs(env, userHome));
            return TransportSecurity.mutualTls(files).channelCredentials();
        } catch (TlsConfigurationException e) {
            throw new CliFailure(ExitCode.USAGE, e.getMessage());
        }
    }
}
