/**
 * What every Ferry process (agent, coordinator, CLI) shares to run as a service on the network:
 * configuration files ({@code dev.ferry.service.config}), systemd notification
 * ({@code dev.ferry.service.systemd}) and transport security ({@code dev.ferry.service.tls}).
 * Feature packages only; nothing here knows about migrations.
 */
package dev.ferry.service;
