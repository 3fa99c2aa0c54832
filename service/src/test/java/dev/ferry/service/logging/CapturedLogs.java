package dev.ferry.service.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Captures what one logger (and its children) logs during each test, for tests that check a
 * refusal or a warning is logged: register as {@code @RegisterExtension final CapturedLogs logged =
 * new CapturedLogs("dev.ferry.service");}. A fresh capture per test; detached after it. Shared with
 * other modules' tests through this module's test-jar.
 */
public final class CapturedLogs implements BeforeEachCallback, AfterEachCallback {
    private final String loggerName;
    private volatile ListAppender<ILoggingEvent> appender;

    public CapturedLogs(String loggerName) {
        this.loggerName = loggerName;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        ListAppender<ILoggingEvent> a = new ListAppender<>();
        a.start();
        ((Logger) LoggerFactory.getLogger(loggerName)).addAppender(a);
        appender = a;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        ((Logger) LoggerFactory.getLogger(loggerName)).detachAppender(appender);
    }

    /** The events logged so far in this test (a copy: appenders add from other threads). */
    public List<ILoggingEvent> events() {
        synchronized (appender.list) {
            return List.copyOf(appender.list);
        }
    }
}
