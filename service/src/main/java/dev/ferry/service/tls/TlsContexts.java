package dev.ferry.service.tls;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Netty TLS contexts for gRPC from Ferry's PEM files: the JDK provider (no native library),
 * TLS 1.3 only (every peer is a Ferry JVM), Ferry's CA as the only trust anchor, client
 * authentication REQUIRED on servers. Clients verify the server's host name against its
 * certificate's DNS/IP names (gRPC enables HTTPS endpoint identification on client engines).
 */
public final class TlsContexts {

    static final String[] PROTOCOLS = {"TLSv1.3"};

    private TlsContexts() {
    }

    /** A server context that demands a client certificate signed by the configured CA. */
    public static SslContext server(TlsFiles files) {
        files.requireReadable();
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(files.certificateChain().toFile(), files.privateKey().toFile());
            return GrpcSslContexts.configure(builder, SslProvider.JDK)
                    .trustManager(trustManager(files.trustedCa()))
                    .clientAuth(ClientAuth.REQUIRE)
                    .protocols(PROTOCOLS)
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsConfigurationException("cannot build the TLS server context from " + files + ": " + e.getMessage(), e);
        }
    }

    /** A client context presenting the configured certificate and trusting only the CA. */
    public static SslContext client(TlsFiles files) {
        return client(files, "");
    }

    /**
     * As {@link #client(TlsFiles)}, and the server's certificate must name {@code expectedServerName}
     * as its CN ("" = any name the CA signed).
     */
    public static SslContext client(TlsFiles files, String expectedServerName) {
        files.requireReadable();
        try {
            SslContextBuilder builder = SslContextBuilder.forClient()
                    .keyManager(files.certificateChain().toFile(), files.privateKey().toFile());
            return GrpcSslContexts.configure(builder, SslProvider.JDK)
                    .trustManager(trustManager(files.trustedCa(), expectedServerName))
                    .protocols(PROTOCOLS)
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsConfigurationException("cannot build the TLS client context from " + files + ": " + e.getMessage(), e);
        }
    }

    /** Every certificate in a PEM file, in order. */
    public static List<X509Certificate> readCertificates(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new TlsConfigurationException(pem + " holds no certificate");
            }
            return out;
        } catch (IOException | GeneralSecurityException e) {
            throw new TlsConfigurationException("cannot read certificates from " + pem + ": " + e.getMessage(), e);
        }
    }

    static X509ExtendedTrustManager trustManager(Path caPem) {
        return trustManager(caPem, "");
    }

    static X509ExtendedTrustManager trustManager(Path caPem, String expectedServerName) {
        try {
            KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            int i = 0;
            for (X509Certificate ca : readCertificates(caPem)) {
                anchors.setCertificateEntry("ferry-ca-" + i++, ca);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(anchors);
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x509) {
                    return new LoggingTrustManager(x509, expectedServerName);
                }
            }
            throw new TlsConfigurationException("the JDK offers no X509ExtendedTrustManager");
        } catch (IOException | GeneralSecurityException e) {
            throw new TlsConfigurationException("cannot use " + caPem + " as trust anchors: " + e.getMessage(), e);
        }
    }
}
