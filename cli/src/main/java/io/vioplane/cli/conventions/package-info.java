/**
 * Conventions every {@code vioplane} command and daemon shares: one-line errors and exit codes
 * ({@link io.vioplane.cli.conventions.CommandConventions}, {@link io.vioplane.cli.conventions.UserError}), and the
 * operations a daemon needs (readiness, sd_notify, pid file, metrics endpoint, exit summary).
 */
package io.vioplane.cli.conventions;
