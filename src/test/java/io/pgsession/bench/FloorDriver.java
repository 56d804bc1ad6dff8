package io.pgsession.bench;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.IdentityHashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The least any store can do: one prepared primary-key SELECT to load, one prepared upsert of a
 * ready-made JSON string to save, one DELETE to invalidate, on a table of the same layout as
 * pgsession's. It decodes nothing and encodes nothing per request; it writes on the same occasions
 * as pgsession (a change, or an access a tenth of the interval after the stored expiry was set).
 *
 * <p>The ready-made string is the document pgsession stores for the same attributes (cookie,
 * metadata and attributes, made once by pgsession on a table of its own), so that the floor moves
 * the same bytes through the driver, the network and the server, and the difference to it is what a
 * store does per request beyond that.
 */
final class FloorDriver implements StoreDriver<FloorDriver.Session> {
  private static final String TABLE = "floor_session";
  private static final String LOAD = "SELECT sess, expire FROM " + TABLE + " WHERE sid = ?";
  private static final String UPSERT =
      "INSERT INTO "
          + TABLE
          + " (sid, sess, expire) VALUES (?, ?::json, ?) ON CONFLICT (sid)"
          + " DO UPDATE SET sess = EXCLUDED.sess, expire = EXCLUDED.expire";
  private static final String DELETE = "DELETE FROM " + TABLE + " WHERE sid = ?";
  private static final String TEMPLATE_TABLE = "floor_template";

  private final DataSource dataSource;
  private final int maxInactiveSeconds;
  private final Map<Map<String, Object>, String> readyMade = new IdentityHashMap<>();

  /** A loaded row: the JSON as read, and whether this request must write it back. */
  static final class Session {
    final String sid;
    final String json;
    final long storedExpiry;
    long expiry;
    boolean changed;

    Session(String sid, String json, long storedExpiry) {
      this.sid = sid;
      this.json = json;
      this.storedExpiry = storedExpiry;
    }
  }

  FloorDriver(DataSource dataSource, int maxInactiveSeconds) {
    this.dataSource = dataSource;
    this.maxInactiveSeconds = maxInactiveSeconds;
  }

  @Override
  public String name() {
    return "floor (raw JDBC)";
  }

  @Override
  public void clear() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (sid varchar NOT NULL PRIMARY KEY, sess json NOT NULL,"
              + " expire timestamp(6) NOT NULL)");
      s.execute("CREATE INDEX IF NOT EXISTS floor_session_expire ON " + TABLE + " (expire)");
      s.execute("TRUNCATE " + TABLE);
    }
  }

  @Override
  public String create(String id, long now, Map<String, Object> attributes) throws SQLException {
    upsert(id, json(attributes), now + maxInactiveSeconds * 1000L);
    return id;
  }

  /** The shape's document, made once: the floor spends nothing on encoding. */
  private synchronized String json(Map<String, Object> attributes) throws SQLException {
    String json = readyMade.get(attributes);
    if (json == null) {
      json = pgsessionDocument(attributes);
      readyMade.put(attributes, json);
    }
    return json;
  }

  /** The document pgsession stores for a new session with these attributes. */
  private String pgsessionDocument(Map<String, Object> attributes) throws SQLException {
    PgSessionStore pgsession =
        new PgSessionStore(
            dataSource,
            PgSessionConfig.builder().table(TEMPLATE_TABLE).build(),
            FloorDriver.class.getClassLoader());
    SessionRecord record =
        new SessionRecord("template", System.currentTimeMillis(), maxInactiveSeconds);
    record.attributes().putAll(attributes);
    pgsession.save(record);
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      try (ResultSet rs =
          s.executeQuery("SELECT sess::text FROM " + TEMPLATE_TABLE + " WHERE sid = 'template'")) {
        if (!rs.next()) {
          throw new IllegalStateException("pgsession did not store the floor's template session");
        }
        return rs.getString(1);
      } finally {
        s.execute("DROP TABLE " + TEMPLATE_TABLE);
      }
    }
  }

  @Override
  public @Nullable Session open(String id, long now) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(LOAD)) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        Session s = new Session(id, rs.getString(1), rs.getTimestamp(2).getTime());
        s.expiry = now + maxInactiveSeconds * 1000L;
        return s;
      }
    }
  }

  @Override
  public @Nullable Object get(Session session, String name) {
    return session.json;
  }

  @Override
  public void set(Session session, String name, Object value) {
    session.changed = true;
  }

  @Override
  public void finish(Session session, long now) throws SQLException {
    boolean touchDue = session.expiry - session.storedExpiry >= maxInactiveSeconds * 100L;
    if (session.changed || touchDue) {
      upsert(session.sid, session.json, session.expiry);
    }
  }

  @Override
  public void invalidate(Session session) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(DELETE)) {
      ps.setString(1, session.sid);
      ps.executeUpdate();
    }
  }

  private void upsert(String id, String json, long expiry) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(UPSERT)) {
      ps.setString(1, id);
      ps.setString(2, json);
      ps.setTimestamp(3, new Timestamp(expiry));
      ps.executeUpdate();
    }
  }
}
