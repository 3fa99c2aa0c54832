package dev.ferry.service.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDK's PKIX trust manager for Ferry's CA, plus a WARN line for every certificate it
 * refuses (another CA, expired, not yet valid, wrong key usage, host name mismatch), naming the
 * subject and the peer host. Decides nothing itself: every check is the delegate's, including
 * the HTTPS endpoint identification gRPC enables on client engines. One addition, for clients
 * that know whom they mean to reach: with an expected server name, a server certificate whose
 * CN is another name is refused (an agent certificate of host3 at the address registered for
 * host2 must not receive host1's memory).
 */
final class LoggingTrustManager extends X509ExtendedTrustManager {

    private static final Logger log = LoggerFactory.getLogger(LoggingTrustManager.class);

    private final X509ExtendedTrustManager delegate;
    /** CN the server's certificate must carry; "" for any CN the CA signed. */
    private final String expectedServerName;

    LoggingTrustManager(X509ExtendedTrustManager delegate) {
        this(delegate, "");
    }

    LoggingTrustManager(X509ExtendedTrustManager delegate, String expectedServerName) {
        this.delegate = delegate;
        this.expectedServerName = expectedServerName;
    }

    private void requireServerName(X509Certificate[] chain) throws CertificateException {
        if (expectedServerName.isEmpty()) {
            return;
        }
        String cn = dev.ferry.service.auth.PeerIdentity.of(chain[0]).commonName();
        if (!cn.equals(expectedServerName)) {
            throw new CertificateException("the server's certificate names " + (cn.isEmpty() ? "no CN" : cn)
                    + ", not " + expectedServerName + ", the peer this call is meant for");
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        try {
            delegate.checkClientTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            throw refused("client", chain, engine == null ? null : engine.getPeerHost(), e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        try {
            delegate.checkServerTrusted(chain, authType, engine);
            requireServerName(chain);
        } catch (CertificateException e) {
            throw refused("server", chain, engine == null ? null : engine.getPeerHost(), e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        try {
            delegate.checkClientTrusted(chain, authType, socket);
        } catch (CertificateException e) {
            throw refused("client", chain, socket == null ? null : String.valueOf(socket.getRemoteSocketAddress()), e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        try {
            delegate.checkServerTrusted(chain, authType, socket);
            requireServerName(chain);
        } catch (CertificateException e) {
            throw refused("server", chain, socket == null ? null : String.valueOf(socket.getRemoteSocketAddress()), e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
            delegate.checkClientTrusted(chain, authType);
        } catch (CertificateException e) {
            throw refused("client", chain, null, e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
            delegate.checkServerTrusted(chain, authType);
            requireServerName(chain);
        } catch (CertificateException e) {
            throw refused("server", chain, null, e);
        }
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate.getAcceptedIssuers();
    }

    private static CertificateException refused(String side, X509Certificate[] chain, String peer, CertificateException e) {
        String subject = chain == null || chain.length == 0 ? "(no certificate)" : chain[0].getSubjectX500Principal().getName();
        log.warn("TLS refused the {} certificate {} of {}: {}", side, subject, peer == null ? "(unknown peer)" : peer, e.getMessage());
        return e;
    }
}
