/**
 * The Jetty 12 adapter: a {@link org.eclipse.jetty.session.SessionDataStore} that keeps sessions in
 * the pgsession table, for the ee9, ee10 and ee11 environments, which share Jetty's core session
 * manager.
 *
 * <p>Configure a {@link io.pgsession.jetty.PgSessionDataStoreFactory} (in code or jetty.xml) and
 * wire it with {@link io.pgsession.jetty.PgSessions}, or enable the {@code pgsession} Jetty module.
 */
@NullMarked
package io.pgsession.jetty;

import org.jspecify.annotations.NullMarked;
