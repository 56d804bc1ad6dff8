/**
 * The container-independent core of pgsession: a store of servlet sessions in one PostgreSQL table
 * laid out as connect-pg-simple lays it out, with attributes kept as readable JSON.
 *
 * <p>{@link io.pgsession.PgSessionStore} is the entry point; {@link io.pgsession.PgSessionConfig}
 * holds its validated settings and {@link io.pgsession.PgDataSources} builds a connection pool. The
 * container adapters live in {@code io.pgsession.jetty} and {@code io.pgsession.tomcat}.
 */
@NullMarked
package io.pgsession;

import org.jspecify.annotations.NullMarked;
