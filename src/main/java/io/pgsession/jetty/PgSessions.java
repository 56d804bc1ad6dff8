package io.pgsession.jetty;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.session.AbstractSessionManager;
import org.eclipse.jetty.session.NullSessionCache;
import org.eclipse.jetty.session.NullSessionCacheFactory;

/**
 * Wires pgsession into Jetty for the non-sticky setup: no session cache, so every request reads the
 * session from PostgreSQL and any node sees the latest saved state, and {@code
 * flushOnResponseCommit}, so that a changed session is written before the response reaches the
 * client and the client's next request, on whatever node, finds it.
 */
public final class PgSessions {
  private PgSessions() {}

  /**
   * Gives one web application's session handler (ee9, ee10 or ee11 {@code SessionHandler}, all
   * {@link AbstractSessionManager}s) a null session cache over a store from {@code factory}. Call
   * before the handler starts.
   */
  public static void install(AbstractSessionManager handler, PgSessionDataStoreFactory factory) {
    NullSessionCache cache = new NullSessionCache(handler);
    cache.setFlushOnResponseCommit(true);
    cache.setSessionDataStore(factory.getSessionDataStore(handler));
    handler.setSessionCache(cache);
  }

  /**
   * Makes {@code factory} and a null session cache the defaults of every web application of the
   * server, as the {@code pgsession} Jetty module does. Call before the server starts.
   */
  public static void install(Server server, PgSessionDataStoreFactory factory) {
    NullSessionCacheFactory caches = new NullSessionCacheFactory();
    caches.setFlushOnResponseCommit(true);
    server.addBean(caches);
    server.addBean(factory);
  }
}
