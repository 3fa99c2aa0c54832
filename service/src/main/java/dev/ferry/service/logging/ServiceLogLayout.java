package dev.ferry.service.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One log event as the daemons write it to stderr, in one of two shapes:
 * <ul>
 *   <li><b>journal</b> (stderr is journald, see {@link JournalStream}): one line per event, starting
 *       with the syslog priority prefix {@code <N>} that journald turns into the entry's PRIORITY
 *       (ERROR 3, WARN 4, INFO 6, DEBUG and TRACE 7); no timestamp (journald stamps every entry);
 *       line breaks inside the message or stack trace become {@value #JOINER} so that an event is
 *       one journal entry, not one per stack frame;</li>
 *   <li><b>console</b> (run by hand): a timestamp, the level, thread, logger and message; stack
 *       traces on their own lines.</li>
 * </ul>
 * {@code mode} is {@code auto} (the default: journal if stderr is journald), {@code journal} or
 * {@code console}; logback.xml sets it from {@code FERRY_LOG_MODE}.
 */
public final class ServiceLogLayout extends LayoutBase<ILoggingEvent> {

    /** Replaces line breaks in journal mode. */
    public static final String JOINER = " | ";

    static final String CONSOLE_PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n%ex{40}";
    /** Line breaks become {@link #JOINER}; the layout ends the line itself. At most 20 frames per trace. */
    static final String JOURNAL_PATTERN = "%-5level [%thread] %logger{36} - %msg%n%ex{20}";

    private static final Pattern LINE_BREAKS = Pattern.compile("\\s*[\\r\\n]+\\s*");

    private String mode = "auto";
    private boolean journal;
    private PatternLayout pattern;

    public void setMode(String mode) {
        this.mode = mode == null ? "auto" : mode.strip().toLowerCase(Locale.ROOT);
    }

    public boolean journal() {
        return journal;
    }

    @Override
    public void start() {
        journal = switch (mode) {
            case "journal" -> true;
            case "console" -> false;
            case "auto", "" -> JournalStream.stderrIsJournal();
            default -> {
                addWarn("Unknown log mode '" + mode + "' (auto, journal, console): using auto");
                yield JournalStream.stderrIsJournal();
            }
        };
        pattern = new PatternLayout();
        pattern.setContext(getContext());
        pattern.setPattern(journal ? JOURNAL_PATTERN : CONSOLE_PATTERN);
        pattern.start();
        super.start();
    }

    @Override
    public void stop() {
        if (pattern != null) {
            pattern.stop();
        }
        super.stop();
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        String text = pattern.doLayout(event);
        if (!journal) {
            return text;
        }
        return "<" + syslogPriority(event.getLevel()) + ">" + LINE_BREAKS.matcher(text.strip()).replaceAll(JOINER) + CoreConstants.LINE_SEPARATOR;
    }

    /** syslog(3) priority of a logback level. */
    static int syslogPriority(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> 3;
            case Level.WARN_INT -> 4;
            case Level.INFO_INT -> 6;
            default -> 7;
        };
    }
}
