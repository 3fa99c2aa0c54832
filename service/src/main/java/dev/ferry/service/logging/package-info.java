/**
 * Log lines that read well in journald (syslog priority prefix, one line per event, no second
 * timestamp) and at a terminal; used by dist's logback.xml.
 */
package dev.ferry.service.logging;
