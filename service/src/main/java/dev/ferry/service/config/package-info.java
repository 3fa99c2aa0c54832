/**
 * The daemons' configuration files ({@code /etc/ferry/*.conf}, {@code key = value}) and their
 * use as picocli defaults: flags override the file, the file overrides built-in defaults.
 */
package dev.ferry.service.config;
