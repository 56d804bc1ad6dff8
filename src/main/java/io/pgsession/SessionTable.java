package io.pgsession;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.List;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGResultSetMetaData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The table's SQL, and its creation when it is missing.
 *
 * <p>Creation is tried on first use rather than at start, and again after every failure, so an
 * application that starts while the database is down works once it is up. Nodes that start together
 * serialise on a transaction-level advisory lock, which also holds through pgbouncer's transaction
 * pooling.
 */
final class SessionTable {
  private static final Logger log = LoggerFactory.getLogger(SessionTable.class);
  private static final String DDL_RESOURCE = "session-table.sql";

  /** Whether pgjdbc's classes are visible to pgsession's class loader. */
  private static final boolean PGJDBC_LOADED = isLoadable("org.postgresql.PGResultSetMetaData");

  /** 2000-01-01T00:00Z, PostgreSQL's epoch for binary timestamps, in Unix seconds. */
  private static final long POSTGRES_EPOCH_SECONDS = 946_684_800L;

  final String name;
  final String load;
  final String loadIfChanged;
  final String insert;
  final String insertNew;
  final String update;
  final String updateDocument;
  final String touch;
  final String touchIfUnchanged;
  final String delete;
  final String exists;
  final String expired;
  final String takeExpired;
  final String reap;
  final String changeId;
  final long reaperLockKey;
  private final long createLockKey;
  private final PgSessionConfig config;
  private final ZoneRules expireRules;
  private final boolean expireInJava;
  private final boolean expireAtUtc;
  private volatile boolean expireHasZone;
  private volatile boolean ready;

  SessionTable(PgSessionConfig config) {
    this.config = config;
    this.expireRules = ZoneId.of(config.expireZone()).getRules();
    this.expireInJava = sharesRulesWithJava(config.expireZone());
    this.expireAtUtc =
        expireInJava
            && expireRules.isFixedOffset()
            && expireRules.getOffset(Instant.EPOCH).equals(ZoneOffset.UTC);
    String t = config.qualifiedTable();
    String now = "timezone('" + config.expireZone() + "', now())";
    String expireAt = "timezone('" + config.expireZone() + "', to_timestamp(?))";
    this.name = t;
    // xmin, the id of the transaction that wrote the row version, changes with every write by
    // anyone (a touch, a Node app, another node), so it is the optimistic check of a save; it
    // needs no parsing of the stored JSON. The expire column is read as it is stored and turned
    // into an instant here (expiryMillis), which costs the server nothing per row, unless the
    // zone is one the server reads otherwise than Java.
    String expire =
        expireInJava
            ? "expire"
            : "CASE WHEN expire = 'infinity' THEN 0 WHEN expire = '-infinity' THEN 1"
                + " ELSE (extract(epoch FROM expire AT TIME ZONE '"
                + config.expireZone()
                + "') * 1000)::bigint END";
    this.load = "SELECT sess, " + expire + ", xmin FROM " + t + " WHERE sid = ?";
    // For a session read before: the document only if the row is no longer that version.
    this.loadIfChanged =
        "SELECT CASE WHEN xmin = ?::text::xid THEN NULL ELSE sess END, "
            + expire
            + ", xmin FROM "
            + t
            + " WHERE sid = ?";
    this.insert =
        "INSERT INTO "
            + t
            + " (sid, sess, expire) VALUES (?, ?::json, "
            + expireAt
            + ") ON CONFLICT (sid) DO UPDATE SET sess = EXCLUDED.sess, expire = EXCLUDED.expire"
            + " RETURNING xmin";
    // Without ON CONFLICT: the server skips the upsert's search for a row before inserting, and
    // the confirmation of its speculative insert.
    this.insertNew =
        "INSERT INTO "
            + t
            + " (sid, sess, expire) VALUES (?, ?::json, "
            + expireAt
            + ") RETURNING xmin";
    this.update =
        "UPDATE "
            + t
            + " SET sess = ?::json, expire = "
            + expireAt
            + " WHERE sid = ? AND xmin = ?::text::xid RETURNING xmin";
    // The document alone, while expire need not move: an update that changes no indexed column
    // can be a heap-only (HOT) update, which adds no entry to the key index or the expire index.
    this.updateDocument =
        "UPDATE " + t + " SET sess = ?::json WHERE sid = ? AND xmin = ?::text::xid RETURNING xmin";
    this.touch =
        "UPDATE "
            + t
            + " SET expire = greatest(expire, "
            + expireAt
            + ") WHERE sid = ? RETURNING xmin";
    this.touchIfUnchanged =
        "UPDATE "
            + t
            + " SET expire = greatest(expire, "
            + expireAt
            + ") WHERE sid = ? AND xmin = ?::text::xid RETURNING xmin";
    this.delete = "DELETE FROM " + t + " WHERE sid = ?";
    this.exists = "SELECT 1 FROM " + t + " WHERE sid = ? AND expire > " + now;
    this.expired =
        "SELECT sid FROM "
            + t
            + " WHERE expire <= "
            + now
            + " - make_interval(secs => ?) AND sess->'pgsession'->>'context' = ?"
            + " ORDER BY expire LIMIT ?";
    this.takeExpired =
        "DELETE FROM "
            + t
            + " WHERE sid = ? AND expire <= "
            + now
            + " RETURNING sess, "
            + expire
            + ", xmin";
    this.reap =
        "DELETE FROM "
            + t
            + " WHERE sid IN (SELECT sid FROM "
            + t
            + " WHERE expire < "
            + now
            + " - make_interval(secs => ?) ORDER BY expire LIMIT ? FOR UPDATE SKIP LOCKED)";
    this.changeId = "UPDATE " + t + " SET sid = ? WHERE sid = ?";
    this.reaperLockKey = lockKey("pgsession.reap " + t);
    this.createLockKey = lockKey("pgsession.create " + t);
  }

  /**
   * The epoch milliseconds of the {@code expire} column at {@code column} of the current row. The
   * column is a {@code timestamp} in the tables pgsession, its init script and connect-pg-simple
   * create; a {@code timestamptz} column (a table made by hand) is read as the instant it holds.
   * For a zone the server reads otherwise than Java ({@link #sharesRulesWithJava}), the query has
   * already converted the column to milliseconds, as a {@code timestamp} in that zone.
   */
  long expiryOf(ResultSet rs, int column) throws SQLException {
    if (!expireInJava) {
      return rs.getLong(column);
    }
    if (expireAtUtc && isBinary(rs, column)) {
      return binaryExpiryMillis(rs.getBytes(column));
    }
    if (!expireHasZone) {
      try {
        return expiryMillis(rs.getObject(column, LocalDateTime.class));
      } catch (SQLException e) {
        // pgjdbc refuses a LocalDateTime from a timestamptz column.
        if (!hasZone(rs, column)) {
          throw e;
        }
        expireHasZone = true;
      }
    } else if (!hasZone(rs, column)) {
      // The column was altered back while the application ran.
      expireHasZone = false;
      return expiryMillis(rs.getObject(column, LocalDateTime.class));
    }
    return instantMillis(rs.getObject(column, OffsetDateTime.class));
  }

  /**
   * Whether Java and PostgreSQL read the zone name alike: {@code UTC}, {@code GMT} and the tz
   * database's Area/Location names, whose rules both take from that database. PostgreSQL reads
   * other names its own way: a POSIX-style offset such as {@code UTC+3} or {@code +03:00} with the
   * sign reversed, and {@code CET} or {@code EET} as fixed abbreviations without summer time.
   */
  static boolean sharesRulesWithJava(String zone) {
    return zone.equals("UTC") || zone.equals("GMT") || zone.indexOf('/') > 0;
  }

  /**
   * Whether pgjdbc received the column in binary. In UTC a binary {@code timestamp} and a binary
   * {@code timestamptz} hold the same microseconds, so the raw value can be read without asking
   * which of the two the column is; it spares pgjdbc a calendar it builds per result set to make a
   * {@code LocalDateTime}. Another driver, or the text form (the first executions of a statement,
   * or {@code binaryTransfer=false}), goes through {@code getObject}.
   */
  private static boolean isBinary(ResultSet rs, int column) throws SQLException {
    return PGJDBC_LOADED && Pgjdbc.isBinary(rs.getMetaData(), column);
  }

  private static boolean isLoadable(String className) {
    try {
      Class.forName(className, false, SessionTable.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** pgjdbc's API, touched only when its classes are there. */
  private static final class Pgjdbc {
    private static final int BINARY = 1;

    static boolean isBinary(ResultSetMetaData md, int column) throws SQLException {
      return md.isWrapperFor(PGResultSetMetaData.class)
          && md.unwrap(PGResultSetMetaData.class).getFormat(column) == BINARY;
    }
  }

  /**
   * As {@link #expiryMillis}, from PostgreSQL's binary form of a timestamp in UTC: microseconds
   * since 2000-01-01, with the largest and smallest long for {@code infinity} and {@code
   * -infinity}.
   */
  static long binaryExpiryMillis(byte @Nullable [] value) {
    if (value == null) {
      return 0;
    }
    if (value.length != Long.BYTES) {
      throw new IllegalStateException(
          "expire arrived as " + value.length + " bytes; a binary timestamp has 8");
    }
    long micros = 0;
    for (byte b : value) {
      micros = micros << 8 | (b & 0xff);
    }
    if (micros == Long.MAX_VALUE) {
      return 0;
    }
    if (micros == Long.MIN_VALUE) {
      return 1;
    }
    return roundedMillis(
        Math.floorDiv(micros, 1_000_000L) + POSTGRES_EPOCH_SECONDS,
        (int) Math.floorMod(micros, 1_000_000L) * 1000);
  }

  private static boolean hasZone(ResultSet rs, int column) throws SQLException {
    return "timestamptz".equals(rs.getMetaData().getColumnTypeName(column));
  }

  /** As {@link #expiryMillis}, for a {@code timestamptz}, which needs no zone rules. */
  static long instantMillis(@Nullable OffsetDateTime stored) {
    if (stored == null || stored.equals(OffsetDateTime.MAX)) {
      return 0;
    }
    if (stored.equals(OffsetDateTime.MIN)) {
      return 1;
    }
    return roundedMillis(stored.toEpochSecond(), stored.getNano());
  }

  /**
   * The epoch milliseconds of a stored {@code expire}, a local time in {@link
   * PgSessionConfig#expireZone()}, read as PostgreSQL's {@code expire AT TIME ZONE zone} reads it:
   * a time that a zone's clocks skip takes the offset in force before the change, and a time they
   * pass twice the offset after it. {@code 'infinity'} (never expires) is 0 and {@code '-infinity'}
   * is 1, as in {@link SessionRecord#expiry()}; the microseconds round half away from zero to
   * milliseconds.
   */
  long expiryMillis(@Nullable LocalDateTime stored) {
    if (stored == null || stored.equals(LocalDateTime.MAX)) {
      return 0;
    }
    if (stored.equals(LocalDateTime.MIN)) {
      return 1;
    }
    ZoneOffset offset;
    List<ZoneOffset> valid = expireRules.getValidOffsets(stored);
    if (valid.size() == 1) {
      offset = valid.get(0);
    } else {
      ZoneOffsetTransition change = expireRules.getTransition(stored);
      offset = valid.isEmpty() ? change.getOffsetBefore() : change.getOffsetAfter();
    }
    return roundedMillis(stored.toEpochSecond(offset), stored.getNano());
  }

  /**
   * Microseconds rounded half away from zero to milliseconds, as PostgreSQL's bigint cast does. The
   * whole seconds are scaled to milliseconds only: in microseconds the last years a timestamp can
   * hold (from 294247) would overflow a long.
   */
  private static long roundedMillis(long epochSecond, int nanos) {
    long millis = Math.multiplyExact(epochSecond, 1000L);
    int micros = nanos / 1000;
    // A negative instant (epochSecond < 0, micros >= 0) rounds its magnitude, towards -infinity.
    return epochSecond >= 0
        ? millis + (micros + 500) / 1000
        : millis - Math.floorDiv(500 - micros, 1000);
  }

  /** The DDL that creates the table and its index, for this configuration's names. */
  static List<String> ddl(PgSessionConfig config) {
    String template;
    try (InputStream in = SessionTable.class.getResourceAsStream(DDL_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(DDL_RESOURCE + " is missing from the pgsession jar");
      }
      template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String sql =
        template
            .replace("${table}", config.qualifiedTable())
            .replace("${index}", config.quotedExpireIndex());
    return List.of(sql.split(";\\s*")).stream().filter(s -> !s.isBlank()).toList();
  }

  /** Makes sure the table exists, creating it if allowed; cheap once it has succeeded. */
  void ensureReady(DataSource dataSource) {
    if (ready) {
      return;
    }
    // No Java lock: while the database is down, each request must fail after its own connection
    // timeout, not queue behind the others. Concurrent creators serialise on the advisory lock.
    try (Connection c = dataSource.getConnection()) {
      prepare(c);
    } catch (SQLException e) {
      String reason =
          isUnreachable(e)
              ? "cannot reach the database (" + detail(e) + "); the request can be retried"
              : detail(e);
      throw new PgSessionException(
          "setup", null, "cannot check or create the table " + name + ": " + reason, e);
    }
    ready = true;
  }

  private void prepare(Connection c) throws SQLException {
    Boolean keyed = keyedBySid(c);
    if (keyed == Boolean.FALSE) {
      throw new PgSessionException(
          "setup",
          null,
          "the table "
              + name
              + " has no primary key on sid (connect-pg-simple's table.sql adds it with its"
              + " ALTER TABLE line); without it every read scans the whole table and one session"
              + " id can get two rows. Add it: ALTER TABLE "
              + name
              + " ADD PRIMARY KEY (sid). If the table has another primary key (on more columns,"
              + " or deferrable), add CREATE UNIQUE INDEX ON "
              + name
              + " (sid) instead; either fails while two rows share a sid, which must be deleted"
              + " first");
    }
    if (keyed != null) {
      return;
    }
    if (!config.createTable()) {
      throw new PgSessionException(
          "setup",
          null,
          "the table "
              + name
              + " does not exist; create it with docker-entrypoint-initdb.d/"
              + "init-session-table.sql, or set createTable=true");
    }
    Transactions.inTransaction(
        c,
        tx -> {
          try (Statement s = tx.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(" + createLockKey + ")");
            if (config.schema() != null) {
              s.execute("CREATE SCHEMA IF NOT EXISTS " + PgSessionConfig.quote(config.schema()));
            }
            for (String statement : ddl(config)) {
              s.execute(statement);
            }
          }
          return null;
        });
    log.info("pgsession[{}] created the session table and its expire index", name);
  }

  /**
   * {@code null} when the table does not exist; else whether it has what the statements rely on: a
   * unique, immediately checked index on {@code sid} alone (its primary key), which every lookup
   * uses and on which an upsert's {@code ON CONFLICT (sid)} relies. A view or a foreign table has
   * no index of its own and is taken as it is.
   */
  private @Nullable Boolean keyedBySid(Connection c) throws SQLException {
    String sql =
        "SELECT c.relkind::text, EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a"
            + " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            + " WHERE i.indrelid = c.oid AND i.indisunique AND i.indimmediate"
            + " AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = 'sid')"
            + " FROM pg_class c WHERE c.oid = to_regclass(?)";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        String kind = rs.getString(1);
        return rs.getBoolean(2) || !(kind.equals("r") || kind.equals("p"));
      }
    }
  }

  /**
   * Whether the error means the server cannot be reached or is going away: a connection exception
   * (SQLState class 08), an administrator, crash or startup shutdown (57P01, 57P02, 57P03), or a
   * pool that could not hand out a connection in time.
   */
  static boolean isUnreachable(SQLException e) {
    if (e instanceof java.sql.SQLTransientConnectionException) {
      // The pool gave no connection within its timeout: the database is down, or too slow to
      // hand connections back; either way this request cannot be served now.
      return true;
    }
    String state = e.getSQLState();
    return state != null
        && (state.startsWith("08")
            || state.equals("57P01")
            || state.equals("57P02")
            || state.equals("57P03"));
  }

  /**
   * The error's message with its cause's: a pool that timed out waiting for a connection says only
   * that, while the driver's reason (refused, authentication failed, no SSL) is in the cause. The
   * driver puts no password in its messages.
   */
  static String detail(SQLException e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    Throwable cause = e.getCause();
    if (cause != null && cause.getMessage() != null && !message.contains(cause.getMessage())) {
      return message + ": " + cause.getMessage();
    }
    return message;
  }

  /** A stable 64-bit key for an advisory lock (FNV-1a over the text). */
  static long lockKey(String text) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= 0x100000001b3L;
    }
    return hash;
  }
}
