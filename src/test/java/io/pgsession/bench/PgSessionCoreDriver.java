package io.pgsession.bench;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * pgsession's core store driven directly, the way its container adapters drive it: load, mark the
 * record accessed, save at the end of the request.
 */
final class PgSessionCoreDriver implements StoreDriver<SessionRecord> {
  private final PgSessionStore store;
  private final int maxInactiveSeconds;

  PgSessionCoreDriver(DataSource dataSource, int maxInactiveSeconds) {
    this.store =
        new PgSessionStore(
            dataSource,
            // A table of its own, so that it can run beside the Jetty adapter.
            PgSessionConfig.builder()
                .table("session_core")
                .readCacheBytes(Stores.readCacheBytes())
                .build(),
            PgSessionCoreDriver.class.getClassLoader());
    this.maxInactiveSeconds = maxInactiveSeconds;
  }

  @Override
  public String name() {
    return "pgsession (core)";
  }

  @Override
  public void clear() throws Exception {
    store.ensureTable();
    try (Connection c = store.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE " + store.tableName());
    }
  }

  @Override
  public String create(String id, long now, Map<String, Object> attributes) {
    SessionRecord r = new SessionRecord(id, now, maxInactiveSeconds);
    r.attributes().putAll(attributes);
    store.save(r);
    return id;
  }

  @Override
  public @Nullable SessionRecord open(String id, long now) {
    SessionRecord r = store.load(id);
    if (r == null) {
      return null;
    }
    r.lastAccessed(r.accessed())
        .accessed(now)
        .expiry(SessionRecord.expiryFor(now, r.maxInactiveSeconds()));
    return r;
  }

  @Override
  public @Nullable Object get(SessionRecord session, String name) {
    return session.attributes().get(name);
  }

  @Override
  public void set(SessionRecord session, String name, Object value) {
    session.attributes().put(name, value);
  }

  @Override
  public void finish(SessionRecord session, long now) {
    store.save(session);
  }

  @Override
  public void invalidate(SessionRecord session) {
    store.delete(session.sid());
  }
}
