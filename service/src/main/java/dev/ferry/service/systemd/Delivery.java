package dev.ferry.service.systemd;

/**
 * What became of one notification. Never an exception: a daemon must not fail because its
 * supervisor cannot be told something.
 */
public enum Delivery {
    /** The datagram went to {@code NOTIFY_SOCKET}. */
    SENT,
    /** No supervisor listens ({@code NOTIFY_SOCKET} unset or of an unsupported kind), or the notifier is closed. */
    DISABLED,
    /** The socket exists in the environment but sending failed (logged). */
    FAILED
}
