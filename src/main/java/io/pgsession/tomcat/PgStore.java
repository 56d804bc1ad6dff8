package io.pgsession.tomcat;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Session;
import org.apache.catalina.session.ManagerBase;
import org.apache.catalina.session.PersistentManagerBase;
import org.apache.catalina.session.StoreBase;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code Store} for Tomcat's {@code PersistentManager} that keeps sessions as pgsession's JSON
 * documents instead of Java-serialized blobs: {@code <Manager
 * className="org.apache.catalina.session.PersistentManager"><Store
 * className="io.pgsession.tomcat.PgStore" jdbcUrl="..."/></Manager>}. Takes the attributes of
 * {@link PgSessionManager} except {@code touchFraction} and the reaper's: PersistentManager decides
 * when sessions are written and expired.
 *
 * <p>PersistentManager keeps sessions in memory and writes them when it swaps them out or backs
 * them up, so this path needs sticky sessions. Each save writes the whole document. {@link
 * #processExpires()} finds expired rows through the expire index and deletes each with the data it
 * held in one statement, so a session's listeners fire on one node only; it never reads the live
 * sessions. {@link #keys()}, {@link #getSize()} and {@link #clear()} are one statement each, scoped
 * to this context's rows, and read no documents; they scan the table, as the document has no index
 * on its context.
 */
public final class PgStore extends StoreBase {
  private static final Logger log = LoggerFactory.getLogger(PgStore.class);

  private final StoreOptions options = new StoreOptions();
  private volatile @Nullable Started started;

  private record Started(
      PgSessionStore store,
      StoreOptions.Connections connections,
      String prefix,
      String contextKey) {}

  public void setJdbcUrl(String jdbcUrl) {
    options.jdbcUrl(jdbcUrl);
  }

  public void setUser(String user) {
    options.user(user);
  }

  public void setPassword(String password) {
    options.password(password);
  }

  public void setDataSourceName(String dataSourceName) {
    options.dataSourceName(dataSourceName);
  }

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

  public void setConnectionTimeout(String connectionTimeout) {
    options.connectionTimeout(connectionTimeout);
  }

  public void setDataSource(DataSource dataSource) {
    options.dataSource(dataSource);
  }

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

  public void setAllowedPackages(String value) {
    options.set("allowedPackages", value);
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

  public void setReaperBatchSize(String value) {
    options.set("reaperBatchSize", value);
  }

  public void setSidPrefix(String value) {
    options.set("sidPrefix", value);
  }

  @Override
  public String getStoreName() {
    return "PgStore";
  }

  @Override
  protected void startInternal() throws LifecycleException {
    Context context = getManager().getContext();
    try {
      started = start(context);
    } catch (PgSessionException e) {
      throw new LifecycleException(
          "pgsession cannot start the store of " + context.getName() + ": " + e.getMessage(), e);
    }
    Started s = started;
    log.info(
        "pgsession[{}] store for {} started: {}, {}, sidPrefix='{}'",
        s.store().tableName(),
        context.getName(),
        s.connections().described(),
        s.store().config(),
        s.prefix());
    super.startInternal();
  }

  private Started start(Context context) {
    PgSessionConfig config = options.buildConfig();
    String path = context.getPath() == null ? "" : context.getPath();
    String prefix =
        config.sidPrefix() != null ? config.sidPrefix() : PgSessionManager.defaultPrefix(path);
    StoreOptions.Connections connections =
        options.connect(
            context, "pgsession-store" + (path.isEmpty() ? "-root" : path.replace('/', '-')));
    ClassLoader loader =
        context.getLoader() != null
            ? context.getLoader().getClassLoader()
            : Thread.currentThread().getContextClassLoader();
    PgSessionStore store = new PgSessionStore(connections.dataSource(), config, loader);
    return new Started(store, connections, prefix, path.isEmpty() ? "/" : path);
  }

  @Override
  protected void stopInternal() throws LifecycleException {
    super.stopInternal();
    Started s = started;
    started = null;
    if (s != null) {
      s.connections().close();
      log.info("pgsession[{}] store for {} stopped", s.store().tableName(), s.contextKey());
    }
  }

  private Started running() throws IOException {
    Started s = started;
    if (s == null) {
      throw new IOException("pgsession store is not started");
    }
    return s;
  }

  @Override
  public @Nullable Session load(String id) throws IOException {
    Started s = running();
    SessionRecord record = io(() -> s.store().load(sidOf(s, id)));
    return record == null ? null : StoredSession.of(getManager(), id, record);
  }

  @Override
  public void save(Session session) throws IOException {
    Started s = running();
    SessionRecord record =
        new SessionRecord(
            sidOf(s, session.getIdInternal()),
            session.getCreationTimeInternal(),
            session.getMaxInactiveInterval());
    long accessed = session.getThisAccessedTimeInternal();
    record
        .accessed(accessed)
        .lastAccessed(session.getLastAccessedTimeInternal())
        .expiry(SessionRecord.expiryFor(accessed, session.getMaxInactiveInterval()))
        .context(s.contextKey());
    Map<String, Object> attributes = record.attributes();
    jakarta.servlet.http.HttpSession http = session.getSession();
    for (String name : Collections.list(http.getAttributeNames())) {
      attributes.put(name, http.getAttribute(name));
    }
    if (getManager() instanceof ManagerBase base && base.getPersistAuthentication()) {
      TomcatAuthState.capture(session, attributes);
    }
    io(() -> s.store().save(record));
  }

  @Override
  public void remove(String id) throws IOException {
    Started s = running();
    io(() -> s.store().delete(sidOf(s, id)));
  }

  /** Deletes this context's rows (those under its prefix), in one statement. */
  @Override
  public void clear() throws IOException {
    Started s = running();
    query(
        s,
        "DELETE FROM " + s.store().config().qualifiedTable() + scope(),
        ps -> ps.executeUpdate());
  }

  /** The number of this context's rows, expired or not, in one statement. */
  @Override
  public int getSize() throws IOException {
    Started s = running();
    return query(
        s,
        "SELECT count(*) FROM " + s.store().config().qualifiedTable() + scope(),
        ps -> {
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
          }
        });
  }

  /** The session ids of this context's rows, in one statement. */
  @Override
  public String[] keys() throws IOException {
    Started s = running();
    List<String> ids =
        query(
            s,
            "SELECT sid FROM " + s.store().config().qualifiedTable() + scope(),
            ps -> {
              List<String> out = new ArrayList<>();
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  out.add(rs.getString(1).substring(s.prefix().length()));
                }
              }
              return out;
            });
    return ids.toArray(new String[0]);
  }

  private static String scope() {
    return " WHERE sess->'pgsession'->>'context' = ? AND starts_with(sid, ?)";
  }

  /** The ids of this context's expired sessions, through the expire index. */
  @Override
  public String[] expiredKeys() throws IOException {
    Started s = running();
    List<String> sids =
        io(() -> s.store().expiredIds(s.contextKey(), 0, s.store().config().reaperBatchSize()));
    List<String> ids = new ArrayList<>(sids.size());
    for (String sid : sids) {
      if (sid.startsWith(s.prefix())) {
        ids.add(sid.substring(s.prefix().length()));
      }
    }
    return ids.toArray(new String[0]);
  }

  /**
   * Expires this context's expired sessions: each row is deleted together with the reading of its
   * data, and the session's listeners fire here unless the manager holds the session in memory (its
   * own expiry then handles it).
   */
  @Override
  public void processExpires() {
    Started s = started;
    if (s == null || !getState().isAvailable()) {
      return;
    }
    try {
      for (String id : expiredKeys()) {
        SessionRecord taken = s.store().takeExpired(sidOf(s, id));
        if (taken != null && !isLoaded(id)) {
          StoredSession.of(getManager(), id, taken).expire();
        }
      }
    } catch (IOException | RuntimeException e) {
      log.warn(
          "pgsession store of {} could not expire sessions; will try again", s.contextKey(), e);
    }
  }

  private boolean isLoaded(String id) {
    return getManager() instanceof PersistentManagerBase persistent && persistent.isLoaded(id);
  }

  private static String sidOf(Started s, String id) {
    int dot = id.indexOf('.');
    return s.prefix() + (dot < 0 ? id : id.substring(0, dot));
  }

  private <T> T query(Started s, String sql, SqlWork<T> work) throws IOException {
    io(
        () -> {
          s.store().ensureTable();
          return null;
        });
    try (Connection c = s.store().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, s.contextKey());
      ps.setString(2, s.prefix());
      return work.run(ps);
    } catch (SQLException e) {
      throw new IOException(
          "pgsession store of "
              + s.contextKey()
              + " failed on "
              + s.store().tableName()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static <T> T io(StoreWork<T> work) throws IOException {
    try {
      return work.run();
    } catch (PgSessionException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @FunctionalInterface
  private interface SqlWork<T> {
    T run(PreparedStatement ps) throws SQLException;
  }

  @FunctionalInterface
  private interface StoreWork<T> {
    T run();
  }
}
