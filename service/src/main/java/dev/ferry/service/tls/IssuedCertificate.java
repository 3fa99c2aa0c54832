package dev.ferry.service.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** A leaf certificate with its private key and the CA that signed it. */
public record IssuedCertificate(String name, X509Certificate certificate, PrivateKey privateKey, X509Certificate ca) {

    /** Writes {@code <name>.crt} and {@code <name>.key} (0600) to {@code dir}; the CA is ca.crt. */
    public TlsFiles writeTo(Path dir, boolean overwrite) throws IOException {
        TlsFiles files = TlsFiles.inDirectory(dir, name);
        PemFiles.writeCertificates(files.certificateChain(), overwrite, certificate);
        PemFiles.writePrivateKey(files.privateKey(), overwrite, privateKey);
        return files;
    }

    @Override
    public String toString() {
        return "IssuedCertificate[" + certificate.getSubjectX500Principal() + "]";
    }
}
