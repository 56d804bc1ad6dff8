package io.pgsession.bench;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.catalina.Session;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.session.DataSourceStore;
import org.apache.catalina.session.PersistentManagerBase;
import org.apache.catalina.session.StandardSession;
import org.jspecify.annotations.Nullable;

/**
 * Tomcat's {@link DataSourceStore} on the table its documentation describes (with {@code bytea} for
 * the data), driven through its Store API: {@code load}, {@code access}, and at the end of the
 * request {@code endAccess} and {@code save}. The Store API has no notion of what changed, so every
 * request writes the whole session, as a {@code PersistentManager} that saves each session after
 * use does.
 */
final class TomcatStoreDriver implements StoreDriver<StandardSession> {
  private static final String TABLE = "tomcat_sessions";

  private final DataSource dataSource;
  private final DataSourceStore store;
  private final PersistentManagerBase manager;
  private final int maxInactiveSeconds;

  /** A store given its pool directly instead of looking one up in JNDI. */
  private static final class DirectDataSourceStore extends DataSourceStore {
    DirectDataSourceStore(DataSource dataSource) {
      this.dataSource = dataSource;
    }
  }

  /** Keeps no sessions in memory: the store is the only place they live. */
  private static final class StoreOnlyManager extends PersistentManagerBase {
    @Override
    public String getName() {
      return "StoreOnlyManager";
    }

    @Override
    public void add(Session session) {}

    @Override
    public void remove(Session session, boolean update) {}
  }

  TomcatStoreDriver(DataSource dataSource, int maxInactiveSeconds) {
    this.dataSource = dataSource;
    this.maxInactiveSeconds = maxInactiveSeconds;
    StandardContext context = new StandardContext();
    context.setName("/bench");
    context.setPath("/bench");
    this.manager = new StoreOnlyManager();
    manager.setContext(context);
    this.store = new DirectDataSourceStore(dataSource);
    store.setSessionTable(TABLE);
    store.setSessionIdCol("session_id");
    store.setSessionValidCol("valid_session");
    store.setSessionMaxInactiveCol("max_inactive");
    store.setSessionLastAccessedCol("last_access");
    store.setSessionAppCol("app_name");
    store.setSessionDataCol("session_data");
    manager.setStore(store);
  }

  @Override
  public String name() {
    return "Tomcat DataSourceStore";
  }

  @Override
  public void clear() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (session_id varchar(100) NOT NULL PRIMARY KEY, valid_session char(1) NOT NULL,"
              + " max_inactive int NOT NULL, last_access bigint NOT NULL,"
              + " app_name varchar(255), session_data bytea)");
      s.execute("CREATE INDEX IF NOT EXISTS kapp_name ON " + TABLE + " (app_name)");
      s.execute("TRUNCATE " + TABLE);
    }
  }

  @Override
  public String create(String id, long now, Map<String, Object> attributes) throws IOException {
    StandardSession session = (StandardSession) manager.createEmptySession();
    session.setNew(true);
    session.setValid(true);
    session.setCreationTime(now);
    session.setMaxInactiveInterval(maxInactiveSeconds);
    session.setId(id, false);
    attributes.forEach(session::setAttribute);
    store.save(session);
    return id;
  }

  @Override
  public @Nullable StandardSession open(String id, long now) throws Exception {
    StandardSession session = (StandardSession) store.load(id);
    if (session != null) {
      session.access();
    }
    return session;
  }

  @Override
  public @Nullable Object get(StandardSession session, String name) {
    return session.getAttribute(name);
  }

  @Override
  public void set(StandardSession session, String name, Object value) {
    session.setAttribute(name, value);
  }

  @Override
  public void finish(StandardSession session, long now) throws IOException {
    session.endAccess();
    store.save(session);
  }

  @Override
  public void invalidate(StandardSession session) throws IOException {
    store.remove(session.getIdInternal());
  }
}
