package io.pgsession.jetty;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.session.AbstractSessionManager;
import org.eclipse.jetty.session.DefaultSessionCache;
import org.eclipse.jetty.session.DefaultSessionCacheFactory;
import org.eclipse.jetty.session.SessionCache;

/**
 * Wires pgsession into Jetty for the non-sticky setup, where any node may serve any request.
 *
 * <p>The session cache is Jetty's {@link DefaultSessionCache} with the eviction policy {@link
 * SessionCache#EVICT_ON_SESSION_EXIT}: a session stays in memory only while requests use it, so
 * every request that finds no other request using the session reads it from PostgreSQL and sees the
 * latest saved state, while simultaneous requests on one node share one copy. {@code
 * flushOnResponseCommit} writes a changed session before the response reaches the client, so the
 * client's next request, on whatever node, finds it.
 *
 * <p>Jetty's {@code NullSessionCache} is not used because with it Jetty's scavenger invalidates
 * expired sessions without calling {@code HttpSessionListener.sessionDestroyed}: its delete never
 * returns the session it loaded, and the listeners are called only for a returned session.
 */
public final class PgSessions {
  private PgSessions() {}

  /**
   * Gives one web application's session handler (the ee9, ee10 or ee11 {@code SessionHandler}, all
   * {@link AbstractSessionManager}s) the cache described above over a store from {@code factory}.
   * Call before the handler starts.
   */
  public static void install(AbstractSessionManager handler, PgSessionDataStoreFactory factory) {
    DefaultSessionCache cache = new DefaultSessionCache(handler);
    cache.setEvictionPolicy(SessionCache.EVICT_ON_SESSION_EXIT);
    cache.setFlushOnResponseCommit(true);
    cache.setSessionDataStore(factory.getSessionDataStore(handler));
    handler.setSessionCache(cache);
  }

  /**
   * Makes {@code factory} and the cache described above the defaults of every web application of
   * the server, as the {@code pgsession} Jetty module does. Call before the server starts.
   */
  public static void install(Server server, PgSessionDataStoreFactory factory) {
    DefaultSessionCacheFactory caches = new DefaultSessionCacheFactory();
    caches.setEvictionPolicy(SessionCache.EVICT_ON_SESSION_EXIT);
    caches.setFlushOnResponseCommit(true);
    server.addBean(caches);
    server.addBean(factory);
  }
}
