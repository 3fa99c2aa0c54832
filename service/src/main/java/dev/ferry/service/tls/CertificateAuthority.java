package dev.ferry.service.tls;

import dev.ferry.service.auth.Role;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small certificate authority for Ferry clusters (development and tests; production may use
 * its own PKI as long as leaf certificates carry a {@code ferry-role:} SAN URI). Keys are EC
 * P-256 from the JDK, certificates are built and signed by BouncyCastle (SHA256withECDSA).
 * Leaf certificates are for both TLS server and client use (agents are both).
 */
public final class CertificateAuthority {

    public static final String CA_KEY = "ca.key";
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509Certificate certificate;
    private final PrivateKey key;

    private CertificateAuthority(X509Certificate certificate, PrivateKey key) {
        this.certificate = certificate;
        this.key = key;
    }

    /** A new self-signed CA valid from a minute ago for {@code validity}. */
    public static CertificateAuthority create(String name, Duration validity) {
        try {
            KeyPair pair = newKeyPair();
            Instant now = Instant.now();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Ferry").addRDN(BCStyle.CN, name).build();
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofMinutes(1))), Date.from(now.plus(validity)), subject, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            return new CertificateAuthority(sign(builder, pair.getPrivate()), pair.getPrivate());
        } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
            throw new TlsConfigurationException("cannot create a CA: " + e.getMessage(), e);
        }
    }

    /** The CA {@link #writeTo} left in {@code dir} ({@code ca.crt}, {@code ca.key}). */
    public static CertificateAuthority load(Path dir) throws IOException {
        Path cert = dir.resolve(TlsFiles.CA_CERTIFICATE);
        Path keyFile = dir.resolve(CA_KEY);
        if (!Files.isReadable(cert) || !Files.isReadable(keyFile)) {
            throw new IOException("no CA in " + dir + " (expected " + cert.getFileName() + " and " + keyFile.getFileName()
                    + "; create one with: ferry-certs init --dir " + dir + ")");
        }
        return new CertificateAuthority(TlsContexts.readCertificates(cert).get(0), PemFiles.readPrivateKey(keyFile));
    }

    public static boolean existsIn(Path dir) {
        return Files.exists(dir.resolve(TlsFiles.CA_CERTIFICATE)) && Files.exists(dir.resolve(CA_KEY));
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** Writes ca.crt (0644) and ca.key (0600). */
    public void writeTo(Path dir, boolean overwrite) throws IOException {
        PemFiles.writeCertificates(dir.resolve(TlsFiles.CA_CERTIFICATE), overwrite, certificate);
        PemFiles.writePrivateKey(dir.resolve(CA_KEY), overwrite, key);
    }

    /** A new key pair and a certificate for it, signed by this CA. */
    public IssuedCertificate issue(CertificateRequest request) {
        try {
            KeyPair pair = newKeyPair();
            return new IssuedCertificate(request.name(), sign(leaf(request, pair.getPublic()), key), pair.getPrivate(), certificate);
        } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
            throw new TlsConfigurationException("cannot issue a certificate for " + request.name() + ": " + e.getMessage(), e);
        }
    }

    private X509v3CertificateBuilder leaf(CertificateRequest request, PublicKey publicKey)
            throws GeneralSecurityException, CertIOException {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Ferry")
                .addRDN(BCStyle.OU, request.role().label()).addRDN(BCStyle.CN, request.name()).build();
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, request.role().uri()));
        for (String dns : request.dnsNames()) {
            names.add(new GeneralName(GeneralName.dNSName, dns));
        }
        for (String ip : request.ipAddresses()) {
            names.add(new GeneralName(GeneralName.iPAddress, ipLiteral(ip)));
        }
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        return new JcaX509v3CertificateBuilder(certificate, serial(), Date.from(request.notBefore()),
                Date.from(request.notAfter()), subject, publicKey)
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                .addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey))
                .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
    }

    /** Only IP literals: a host name here must not trigger a DNS look-up. */
    private static String ipLiteral(String ip) {
        if (!ip.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
            throw new IllegalArgumentException("not an IP address literal: " + ip);
        }
        try {
            return InetAddress.getByName(ip).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address literal: " + ip, e);
        }
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
            throws OperatorCreationException, GeneralSecurityException {
        ContentSigner contentSigner = new JcaContentSignerBuilder(SIGNATURE).build(signer);
        return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
    }
}
