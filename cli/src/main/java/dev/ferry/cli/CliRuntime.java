package dev.ferry.cli;

import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Process-wide settings of the {@code migrate} JVM, made first thing in main (a CLI's start-up
 * time is mostly class loading and initialization, and these skip what it does not need):
 * <ul>
 *   <li>Netty without its native transport ({@code io.netty.transport.noNative}): the CLI makes
 *       one short connection, and loading epoll means extracting a JNI library from ferry.jar to
 *       a temporary file on every run; gRPC then uses NIO.</li>
 *   <li>Netty without its JFR probe ({@code io.netty.jfr.enabled=false}: ~100 jdk.jfr classes).</li>
 * </ul>
 * Explicit {@code -D} settings win. Logging: warnings only, one line each on stderr
 * ({@code migrate: WARNING <logger>: ...}), so library chatter never garbles the table. Through java.util.logging, which gRPC uses anyway
 * and whose classes are in the JDK's own CDS archive: routing Netty there too keeps SLF4J and
 * logback (500 classes and an XML parser, carried in ferry.jar for the daemons) out of the CLI's
 * start.
 */
final class CliRuntime {
    private CliRuntime() {
    }

    static void prepare() {
        defaultProperty("io.netty.transport.noNative", "true");
        defaultProperty("io.netty.jfr.enabled", "false");
        defaultProperty("java.util.logging.SimpleFormatter.format", "migrate: %4$s %3$s: %5$s%6$s%n");
        Logger.getLogger("").setLevel(Level.WARNING);
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
        // Anything still asking SLF4J (no CLI code does) gets the quiet configuration, not
        // logback's default of DEBUG on stdout.
        defaultProperty("logback.configurationFile", "dev/ferry/cli/logback-cli.xml");
    }

    private static void defaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
