/**
 * Tomcat 10.1 and 11 adapters: {@link io.pgsession.tomcat.PgSessionManager}, a non-sticky session
 * manager named in context.xml, and {@link io.pgsession.tomcat.PgStore}, a {@code Store} for
 * Tomcat's own {@code PersistentManager}. Both keep sessions in the table and JSON document of the
 * core store.
 */
@NullMarked
package io.pgsession.tomcat;

import org.jspecify.annotations.NullMarked;
