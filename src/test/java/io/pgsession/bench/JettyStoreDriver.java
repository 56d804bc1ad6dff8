package io.pgsession.bench;

import java.lang.reflect.Proxy;
import java.util.Map;
import org.eclipse.jetty.session.SessionContext;
import org.eclipse.jetty.session.SessionData;
import org.eclipse.jetty.session.SessionDataStore;
import org.eclipse.jetty.session.SessionIdManager;
import org.eclipse.jetty.session.SessionManager;
import org.jspecify.annotations.Nullable;

/**
 * A Jetty 12 {@link SessionDataStore} driven through that interface the way Jetty's session cache
 * drives it for a request with {@code EVICT_ON_SESSION_EXIT} (nothing kept in memory between
 * requests): {@code load}, the access bookkeeping of {@code ManagedSession.access}, then {@code
 * store} when the request ends, {@code delete} on invalidation.
 */
final class JettyStoreDriver implements StoreDriver<SessionData> {
  static final String WORKER = "node0";

  private final String name;
  private final SessionDataStore store;
  private final Clearing clearing;
  private final long maxInactiveMs;

  /** Empties the store's tables. */
  @FunctionalInterface
  interface Clearing {
    void clear() throws Exception;
  }

  /** Initialises the store for the root context on a node named {@value #WORKER}, and starts it. */
  JettyStoreDriver(String name, SessionDataStore store, Clearing clearing, int maxInactiveSeconds)
      throws Exception {
    this.name = name;
    this.store = store;
    this.clearing = clearing;
    this.maxInactiveMs = maxInactiveSeconds * 1000L;
    store.initialize(new SessionContext(sessionManager()));
    store.start();
  }

  /**
   * The little of a session manager that {@link SessionContext} reads: the node name, and no server
   * context (so the root context path and the default virtual host).
   */
  static SessionManager sessionManager() {
    SessionIdManager ids =
        proxy(SessionIdManager.class, (method) -> method.equals("getWorkerName") ? WORKER : null);
    return proxy(
        SessionManager.class, (method) -> method.equals("getSessionIdManager") ? ids : null);
  }

  @FunctionalInterface
  private interface Answer {
    @Nullable Object answer(String method);
  }

  private static <T> T proxy(Class<T> type, Answer answer) {
    return type.cast(
        Proxy.newProxyInstance(
            JettyStoreDriver.class.getClassLoader(),
            new Class<?>[] {type},
            (self, method, args) -> {
              Object value = answer.answer(method.getName());
              if (value == null && method.getReturnType() == boolean.class) {
                return false;
              }
              return value;
            }));
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void clear() throws Exception {
    clearing.clear();
  }

  @Override
  public String create(String id, long now, Map<String, Object> attributes) throws Exception {
    SessionData data = store.newSessionData(id, now, now, now, maxInactiveMs);
    data.setLastNode(WORKER);
    data.calcAndSetExpiry(now);
    attributes.forEach(data::setAttribute);
    store.store(id, data);
    return id;
  }

  @Override
  public @Nullable SessionData open(String id, long now) throws Exception {
    SessionData data = store.load(id);
    if (data == null) {
      return null;
    }
    long previous = data.getAccessed();
    data.setAccessed(now);
    data.setLastAccessed(previous);
    data.calcAndSetExpiry(now);
    return data;
  }

  @Override
  public @Nullable Object get(SessionData session, String name) {
    return session.getAttribute(name);
  }

  @Override
  public void set(SessionData session, String name, Object value) {
    session.setAttribute(name, value);
  }

  @Override
  public void finish(SessionData session, long now) throws Exception {
    store.store(session.getId(), session);
  }

  @Override
  public void invalidate(SessionData session) throws Exception {
    store.delete(session.getId());
  }

  @Override
  public void close() throws Exception {
    store.stop();
  }
}
