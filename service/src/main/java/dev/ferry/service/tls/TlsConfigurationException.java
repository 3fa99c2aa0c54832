package dev.ferry.service.tls;

/** The configured certificates, key or CA cannot be used; the message names the file and why. */
public final class TlsConfigurationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TlsConfigurationException(String message) {
        super(message);
    }

    public TlsConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
