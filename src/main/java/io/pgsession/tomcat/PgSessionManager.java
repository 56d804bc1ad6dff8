package io.pgsession.tomcat;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionReaper;
import io.pgsession.SessionRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Session;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.session.ManagerBase;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A non-sticky Tomcat session manager that keeps every session in a PostgreSQL table, so that any
 * node serves any request. Named in context.xml as {@code <Manager
 * className="io.pgsession.tomcat.PgSessionManager" jdbcUrl="..."/>}; every option is an attribute
 * (see the setters).
 *
 * <p>Guarantees:
 *
 * <ul>
 *   <li>Each request reads its session from the table once, when it first asks for it, and works on
 *       its own copy; no copy outlives the request. A valve the manager adds to the context's
 *       pipeline when the context starts (after valves declared in context.xml, before the
 *       authenticator) saves what the request changed when the request ends, before the response is
 *       completed; FORM login's state is saved as soon as it is set, because Tomcat completes the
 *       login page's response inside the authenticator. A request that changed nothing writes
 *       nothing, except a touch of the expiry once {@code touchFraction} of the interval has
 *       passed; one that changed attributes moves the expiry on the same rule (or when the interval
 *       changed).
 *   <li>The row key is the context's prefix ({@code ""} for the root context, else the context path
 *       and {@code "/"}; attribute {@code sidPrefix}) and the session id without its {@code
 *       .jvmRoute} suffix (anything from the first dot on).
 *   <li>{@code sessionCreated} fires on the node that created the session; {@code sessionDestroyed}
 *       fires once across all nodes, on the node that deleted the row (invalidation, or expiry in
 *       {@link #processExpires()}).
 *   <li>A login (FORM or BASIC) survives a change of node and a restart: the principal's name and
 *       roles, and FORM login's saved request, are stored in the document.
 * </ul>
 *
 * <p>Not promised: {@link #getActiveSessions()} and {@link #findSessions()} count only the sessions
 * that requests on this node are using right now, not the table; two concurrent requests of one
 * session on the same node each work on their own copy, and their changes are merged attribute by
 * attribute when they are saved; sessions created outside a request of this context (a
 * cross-context dispatch) are not saved; a valve declared in context.xml that uses the session
 * works on a copy of its own that is not saved; the SingleSignOn valve's session tracking is not
 * shared between nodes. With parallel deployment all versions of a context path share its sessions
 * (they have one prefix); as each counts only its requests in flight, the shared table does not
 * keep an old version from being undeployed.
 */
public final class PgSessionManager extends ManagerBase {
  private static final Logger log = LoggerFactory.getLogger(PgSessionManager.class);

  private final StoreOptions options = new StoreOptions();
  private final ThreadLocal<@Nullable RequestScope> currentScope = new ThreadLocal<>();
  private final PgSessionValve valve = new PgSessionValve(this);
  private volatile @Nullable Started started;

  /** What exists while the manager runs. */
  private record Started(
      PgSessionStore store,
      StoreOptions.Connections connections,
      SessionReaper reaper,
      String prefix,
      String contextKey) {}

  // ------------------------------------------------------------ context.xml attributes

  /** The database as a JDBC URL ({@code jdbc:postgresql://...}) or a DSN ({@code postgres://}). */
  public void setJdbcUrl(String jdbcUrl) {
    options.jdbcUrl(jdbcUrl);
  }

  /** The database user; wins over one given in the URL. */
  public void setUser(String user) {
    options.user(user);
  }

  public void setPassword(String password) {
    options.password(password);
  }

  /**
   * A JNDI name of a {@code javax.sql.DataSource}, looked up in the web application's {@code
   * java:comp/env}, then among the server's global resources. Wins over {@code jdbcUrl}.
   */
  public void setDataSourceName(String dataSourceName) {
    options.dataSourceName(dataSourceName);
  }

  /** The size of the pool pgsession opens for a {@code jdbcUrl}; 10 by default. */
  public void setMaxPoolSize(int maxPoolSize) {
    options.maxPoolSize(String.valueOf(maxPoolSize));
  }

  /**
   * Called by Tomcat for a context.xml attribute that has no setter here: the start then fails
   * naming it, rather than going on with a default. The value is neither kept nor logged.
   *
   * @return {@code true}, so that Tomcat does not log the attribute and its value
   */
  public boolean setProperty(String name, String value) {
    options.unknown(name);
    return true;
  }

  /** The pool size as context.xml gives it; a value that is not a whole number stops the start. */
  public void setMaxPoolSize(String maxPoolSize) {
    options.maxPoolSize(maxPoolSize);
  }

  /** How long a request waits for a connection: seconds, or ISO-8601 like {@code PT5S}. */
  public void setConnectionTimeout(String connectionTimeout) {
    options.connectionTimeout(connectionTimeout);
  }

  /** A data source given in code (embedded Tomcat); wins over every other database setting. */
  public void setDataSource(DataSource dataSource) {
    options.dataSource(dataSource);
  }

  /** A core configuration given in code; the text attributes are applied on top of it. */
  public void setConfig(PgSessionConfig config) {
    options.config(config);
  }

  public void setSchema(String value) {
    options.set("schema", value);
  }

  public void setTable(String value) {
    options.set("table", value);
  }

  public void setCreateTable(String value) {
    options.set("createTable", value);
  }

  /** Packages whose classes may be stored, separated by commas. */
  public void setAllowedPackages(String value) {
    options.set("allowedPackages", value);
  }

  public void setTouchFraction(String value) {
    options.set("touchFraction", value);
  }

  public void setReaperInterval(String value) {
    options.set("reaperInterval", value);
  }

  public void setReaperGrace(String value) {
    options.set("reaperGrace", value);
  }

  public void setReaperBatchSize(String value) {
    options.set("reaperBatchSize", value);
  }

  public void setOnUndecodable(String value) {
    options.set("onUndecodable", value);
  }

  public void setMaxSessionBytes(String value) {
    options.set("maxSessionBytes", value);
  }

  public void setReadCacheBytes(String value) {
    options.set("readCacheBytes", value);
  }

  public void setExpireZone(String value) {
    options.set("expireZone", value);
  }

  public void setSidPrefix(String value) {
    options.set("sidPrefix", value);
  }

  @Override
  public String getName() {
    return "PgSessionManager";
  }

  // ------------------------------------------------------------ lifecycle

  /**
   * Besides attaching to the context, arranges for the manager's valve to enter the pipeline before
   * the context starts, ahead of the authenticator that configuration adds at start.
   */
  @Override
  public void setContext(@Nullable Context context) {
    super.setContext(context);
    if (context != null) {
      context.addLifecycleListener(
          event -> {
            if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
              installValve(context);
            }
          });
    }
  }

  @Override
  protected void startInternal() throws LifecycleException {
    super.startInternal();
    Context context = getContext();
    Started s;
    try {
      s = start(context);
    } catch (PgSessionException e) {
      throw new LifecycleException(
          "pgsession cannot start the session manager of "
              + context.getName()
              + ": "
              + e.getMessage(),
          e);
    }
    started = s;
    installValve(context);
    log.info(
        "pgsession[{}] context {} started: {}, {}, sidPrefix='{}'",
        s.store().tableName(),
        contextName(),
        s.connections().described(),
        s.store().config(),
        s.prefix());
    setState(LifecycleState.STARTING);
  }

  private Started start(Context context) {
    PgSessionConfig config = options.buildConfig();
    String path = context.getPath() == null ? "" : context.getPath();
    String prefix = config.sidPrefix() != null ? config.sidPrefix() : defaultPrefix(path);
    StoreOptions.Connections connections =
        options.connect(context, "pgsession" + (path.isEmpty() ? "-root" : path.replace('/', '-')));
    try {
      ClassLoader loader =
          context.getLoader() != null
              ? context.getLoader().getClassLoader()
              : Thread.currentThread().getContextClassLoader();
      PgSessionStore store = new PgSessionStore(connections.dataSource(), config, loader);
      SessionReaper reaper = StoreOptions.withLibraryLoader(() -> SessionReaper.start(store));
      return new Started(store, connections, reaper, prefix, path.isEmpty() ? "/" : path);
    } catch (RuntimeException e) {
      connections.close();
      throw e;
    }
  }

  static String defaultPrefix(String contextPath) {
    return contextPath.isEmpty() || contextPath.equals("/") ? "" : contextPath + "/";
  }

  @Override
  protected void stopInternal() throws LifecycleException {
    setState(LifecycleState.STOPPING);
    Started s = started;
    started = null;
    sessions.clear();
    if (s != null) {
      s.reaper().close();
      s.connections().close();
      log.info("pgsession[{}] context {} stopped", s.store().tableName(), contextName());
    }
    super.stopInternal();
  }

  /**
   * Puts the valve at the front of the pipeline, or after the valves already there once started.
   */
  private void installValve(Context context) {
    Pipeline pipeline = context.getPipeline();
    for (Valve v : pipeline.getValves()) {
      if (v == valve) {
        return;
      }
    }
    pipeline.addValve(valve);
  }

  boolean isServing() {
    return started != null;
  }

  String contextName() {
    Context context = getContext();
    return context == null ? "(none)" : context.getName();
  }

  /** The running store; for tests and tools. */
  PgSessionStore store() {
    return running().store();
  }

  private Started running() {
    Started s = started;
    if (s == null) {
      throw new PgSessionException(
          "use", null, "the session manager of " + contextName() + " is not started");
    }
    return s;
  }

  // ------------------------------------------------------------ request scopes

  @Nullable RequestScope bind(RequestScope scope) {
    RequestScope previous = currentScope.get();
    currentScope.set(scope);
    return previous;
  }

  void unbind(@Nullable RequestScope previous) {
    if (previous == null) {
      currentScope.remove();
    } else {
      currentScope.set(previous);
    }
  }

  /**
   * Saves every session the request used and drops its copies. A save that fails is rethrown after
   * the others were tried, so the request fails with the reason.
   */
  void finish(RequestScope scope) {
    RuntimeException failure = null;
    for (PgSession session : scope.finish()) {
      try {
        save(session);
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      } finally {
        sessions.remove(session.getIdInternal(), session);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Like {@link #finish} for a request that went asynchronous, after it completed. */
  void finishAsync(RequestScope scope, Request request) {
    RequestScope previous = bind(scope);
    try {
      // A session created on another thread of the request did not pass through the scope.
      if (request.getSessionInternal(false) instanceof PgSession session) {
        scope.use(session);
      }
    } finally {
      unbind(previous);
    }
    finish(scope);
  }

  /** Saves a session in the middle of its request, for state the response may not wait for. */
  void saveNow(PgSession session) {
    if (started != null && currentScope.get() != null) {
      save(session);
    }
  }

  private void save(PgSession session) {
    if (!session.isValidNow()) {
      return;
    }
    Started s = running();
    session.passivate();
    String sid = sidOf(s, session.getIdInternal());
    SessionRecord record = session.record();
    if (record == null) {
      // Never stored: a session created on this node.
      record = SessionRecord.newSession(sid, session.getCreationTimeInternal(), 0);
      session.record(record);
    } else if (!record.sid().equals(sid)) {
      record = new SessionRecord(sid, session.getCreationTimeInternal(), 0);
      session.record(record);
    }
    long accessed = session.getThisAccessedTimeInternal();
    int interval = session.getMaxInactiveInterval();
    record
        .accessed(accessed)
        .lastAccessed(session.getLastAccessedTimeInternal())
        .maxInactiveSeconds(interval)
        .expiry(SessionRecord.expiryFor(accessed, interval))
        .context(s.contextKey())
        .lastNode(getJvmRoute());
    Map<String, Object> attributes = record.attributes();
    attributes.clear();
    attributes.putAll(session.attributeMap());
    TomcatAuthState.capture(session, attributes);
    PgSessionStore.SaveOutcome outcome = s.store().save(record);
    log.debug("pgsession {} session {}: {}", contextName(), session.getIdInternal(), outcome);
  }

  // ------------------------------------------------------------ Manager

  /**
   * Within a request of this context, the request's copy of the session, read from the table on the
   * first call; outside one (container internals, the manager application), the copy a request on
   * this node is using, or else a fresh copy from the table that no one saves.
   */
  @Override
  public @Nullable Session findSession(@Nullable String id) {
    Started s = started;
    if (id == null || s == null) {
      return null;
    }
    RequestScope scope = currentScope.get();
    if (scope != null) {
      return scope.find(id, this::loadForRequest);
    }
    Session active = sessions.get(id);
    if (active instanceof PgSession p && p.isValidNow()) {
      return p;
    }
    return load(s, id);
  }

  private @Nullable PgSession loadForRequest(String id) {
    PgSession session = load(running(), id);
    if (session != null) {
      session.activate();
      add(session);
    }
    return session;
  }

  private @Nullable PgSession load(Started s, String id) {
    if (!namesOwnRow(id)) {
      return null;
    }
    String sid = sidOf(s, id);
    SessionRecord record = s.store().load(sid);
    if (record == null) {
      return null;
    }
    if (record.isExpiredAt(System.currentTimeMillis())) {
      expireStored(s, sid, id);
      return null;
    }
    return PgSession.restored(this, id, record);
  }

  /** Tries to take an expired row; the node that gets it fires the session's listeners. */
  private boolean expireStored(Started s, String sid, String id) {
    SessionRecord taken = s.store().takeExpired(sid);
    if (taken == null) {
      return false;
    }
    PgSession session = PgSession.restored(this, id, taken);
    session.rowTaken();
    session.expire(true);
    return true;
  }

  /** Deletes the session's row; true when this call deleted it or it was never stored. */
  boolean deleteRow(PgSession session) {
    SessionRecord record = session.record();
    if (record == null || !record.isStored()) {
      return true;
    }
    return running().store().delete(record.sid());
  }

  @Override
  public void add(Session session) {
    super.add(session);
    RequestScope scope = currentScope.get();
    if (scope != null && session instanceof PgSession p) {
      scope.use(p);
    }
  }

  @Override
  public void remove(Session session, boolean update) {
    if (update) {
      super.remove(session, true);
    } else if (session.getIdInternal() != null) {
      sessions.remove(session.getIdInternal(), session);
    }
  }

  @Override
  public Session createEmptySession() {
    return new PgSession(this);
  }

  /** Renames the stored row in one statement before Tomcat renames the session. */
  @Override
  protected void changeSessionId(
      Session session,
      String newId,
      boolean notifySessionListeners,
      boolean notifyContainerListeners) {
    if (session instanceof PgSession p && p.record() != null && p.record().isStored()) {
      Started s = running();
      SessionRecord record = p.record();
      String newSid = sidOf(s, newId);
      if (!s.store().changeId(record.sid(), newSid)) {
        log.debug(
            "pgsession {} session {} was deleted meanwhile; its new id is not stored",
            contextName(),
            session.getIdInternal());
      }
      p.record(record.withSid(newSid));
    }
    super.changeSessionId(session, newId, notifySessionListeners, notifyContainerListeners);
  }

  /**
   * Expires the sessions of this context whose rows expired, through the expire index, firing their
   * listeners on this node for each row this node takes. At most {@code reaperBatchSize} sessions
   * per call.
   */
  @Override
  public void processExpires() {
    Started s = started;
    if (s == null) {
      return;
    }
    long start = System.currentTimeMillis();
    int expired = 0;
    try {
      List<String> sids =
          s.store().expiredIds(s.contextKey(), 0, s.store().config().reaperBatchSize());
      for (String sid : sids) {
        if (sid.startsWith(s.prefix())
            && expireStored(s, sid, sid.substring(s.prefix().length()))) {
          expired++;
        }
      }
    } catch (PgSessionException e) {
      log.warn("pgsession {} could not expire sessions; will try again", contextName(), e);
    }
    long took = System.currentTimeMillis() - start;
    processingTime += took;
    log.debug("pgsession {} expired {} sessions in {} ms", contextName(), expired, took);
  }

  /** Expires a session of this context wherever it was last used. */
  @Override
  public void expireSession(String sessionId) {
    Session session = findSession(sessionId);
    if (session != null) {
      session.expire();
    }
  }

  /** The ids of the sessions requests on this node are using now. */
  @Override
  public String listSessionIds() {
    return String.join(" ", new ArrayList<>(sessions.keySet()));
  }

  /** The row key for a container session id: the prefix, and the id without its route. */
  String sidOf(String id) {
    return sidOf(running(), id);
  }

  private static String sidOf(Started s, String id) {
    if (!namesOwnRow(id)) {
      throw new PgSessionException(
          "save", id, "a session id holding '/' could name another context's row; not stored");
    }
    int dot = id.indexOf('.');
    return s.prefix() + (dot < 0 ? id : id.substring(0, dot));
  }

  /**
   * Whether an id can name a row of this context. Behind the prefix, an id holding {@code /} would
   * spell the row of another web application ({@code /shop/x} in the root context, {@code b/x} in
   * {@code /a} for {@code /a/b}). Tomcat never generates one, so it comes from a forged cookie and
   * is treated as no session.
   */
  private static boolean namesOwnRow(String id) {
    return id.indexOf('/') < 0;
  }

  @Override
  public void load() {
    // Sessions live in the table; there is nothing to read at start.
  }

  @Override
  public void unload() {
    // Every change was saved when its request ended; there is nothing to write at stop.
  }
}
