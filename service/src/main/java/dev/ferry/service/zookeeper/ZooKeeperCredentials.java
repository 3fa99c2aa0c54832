package dev.ferry.service.zookeeper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ZooKeeper digest identity Ferry's coordinators and agents share ({@code user:password},
 * one line in a secret file readable only by the Ferry service user). The same file works for
 * the embedded server and an external ensemble: ZooKeeper's digest scheme needs nothing
 * registered on the server; the znodes' ACLs name the identity by its SHA-1 digest.
 */
public final class ZooKeeperCredentials {

    private static final Logger log = LoggerFactory.getLogger(ZooKeeperCredentials.class);
    public static final String DEFAULT_USER = "ferry";

    private final String user;
    private final String password;

    private ZooKeeperCredentials(String user, String password) {
        if (user.isEmpty() || user.contains(":") || password.isEmpty()) {
            throw new IllegalArgumentException("ZooKeeper credentials must be user:password with a non-empty user without ':' and a non-empty password");
        }
        this.user = user;
        this.password = password;
    }

    public static ZooKeeperCredentials of(String user, String password) {
        return new ZooKeeperCredentials(user, password);
    }

    /** Reads {@code user:password} from the first non-blank line; warns if others may read the file. */
    public static ZooKeeperCredentials fromSecretFile(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String line = lines.stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).findFirst()
                .orElseThrow(() -> new IOException(file + " holds no user:password line"));
        int colon = line.indexOf(':');
        if (colon <= 0 || colon == line.length() - 1) {
            throw new IOException(file + ": expected one line user:password");
        }
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.GROUP_READ)) {
                log.warn("ZooKeeper secret {} is readable by group/others ({}); chmod 600 it",
                        file, PosixFilePermissions.toString(perms));
            }
        }
        return new ZooKeeperCredentials(line.substring(0, colon), line.substring(colon + 1));
    }

    /** Writes a new secret file (mode 0600) with {@code user} and a random 256-bit password. */
    public static ZooKeeperCredentials createSecretFile(Path file, String user) throws IOException {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        ZooKeeperCredentials credentials = new ZooKeeperCredentials(user, Base64.getUrlEncoder().withoutPadding().encodeToString(random));
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        if (Files.getFileStore(parent).supportsFileAttributeView("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(file);
        }
        Files.writeString(file, credentials.user + ":" + credentials.password + "\n", StandardCharsets.UTF_8);
        return credentials;
    }

    public String user() {
        return user;
    }

    /** What Curator sends with {@code authorization("digest", ...)}. */
    public byte[] authBytes() {
        return (user + ":" + password).getBytes(StandardCharsets.UTF_8);
    }

    /** The ACL id naming this identity: {@code digest:user:base64(sha1(user:password))}. */
    public Id aclId() {
        try {
            return new Id("digest", DigestAuthenticationProvider.generateDigest(user + ":" + password));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-1, which ZooKeeper's digest scheme needs", e);
        }
    }

    @Override
    public String toString() {
        return "ZooKeeperCredentials[" + user + ":<redacted>]";
    }
}
