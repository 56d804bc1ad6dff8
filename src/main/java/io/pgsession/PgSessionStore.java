package io.pgsession;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes sessions in one PostgreSQL table, independent of any servlet container.
 *
 * <p>Every operation is one SQL statement on a connection borrowed from the {@link DataSource} for
 * that statement alone; a save that meets a concurrent write re-reads the row and re-applies its
 * own changes. The {@code expire} column is written and compared through the server's clock
 * functions in {@link PgSessionConfig#expireZone()}, never from a Java local date-time, so the
 * JVM's time zone cannot shift expiry.
 *
 * <p>Thread-safe. The store does not own the data source: closing it is the caller's business.
 */
public final class PgSessionStore {
  private static final Logger log = LoggerFactory.getLogger(PgSessionStore.class);
  private static final int MAX_SID_BYTES = 1024;
  private static final int MAX_MERGE_ATTEMPTS = 8;
  private static final int UNDECODABLE_MEMORY = 1024;
  private static final String UNIQUE_VIOLATION = "23505";

  /** What a {@link #save} did. */
  public enum SaveOutcome {
    /** The session was new and its row was written. */
    INSERTED,
    /** Changed attributes or metadata were written. */
    UPDATED,
    /** Another writer had changed the row; this save's changes were applied on top of theirs. */
    MERGED,
    /** Nothing changed but enough time had passed to move the expiry. */
    TOUCHED,
    /** Nothing needed writing. */
    UNCHANGED,
    /** The row had been deleted meanwhile (the session was invalidated elsewhere); not revived. */
    GONE
  }

  private final DataSource dataSource;
  private final PgSessionConfig config;
  private final SessionTable table;
  private final SessionDocument document;
  private final @Nullable ReadCache readCache;
  private final OutageGate outage = new OutageGate();
  private final Set<String> reportedUndecodable =
      Collections.newSetFromMap(
          Collections.synchronizedMap(
              new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > UNDECODABLE_MEMORY;
                }
              }));

  /**
   * A store over {@code dataSource} whose attribute classes are resolved with {@code loader},
   * normally the web application's class loader.
   */
  public PgSessionStore(DataSource dataSource, PgSessionConfig config, ClassLoader loader) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.config = Objects.requireNonNull(config, "config");
    this.table = new SessionTable(config);
    this.document =
        new SessionDocument(new ValueCodec(new TypeAllowlist(config.allowedPackages()), loader));
    this.readCache = config.readCacheBytes() > 0 ? new ReadCache(config.readCacheBytes()) : null;
  }

  public PgSessionConfig config() {
    return config;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /**
   * Reads a session, expired or not, or returns {@code null} when there is no row. A row that
   * cannot be decoded is reported once and, by default, read as no session.
   */
  public @Nullable SessionRecord load(String sid) {
    if (!isStorable(sid)) {
      return null;
    }
    ReadCache.Entry known = readCache == null ? null : readCache.get(sid);
    Row row = fetch(sid, known);
    if (row != null && row.json() == null) {
      if (known != null && known.stamp().equals(row.stamp())) {
        readCache.hit(sid, known);
        SessionRecord r = known.template().record(sid, row.expiry(), System.currentTimeMillis());
        r.baseline = r.baseline == null ? null : r.baseline.withStamp(row.stamp());
        return r;
      }
      // Not the version asked about after all (cannot happen with PostgreSQL's xmin): read it all.
      row = fetch(sid, null);
    }
    if (row == null) {
      forget(sid);
      return null;
    }
    return decode(sid, row);
  }

  /**
   * The row, with its document unless {@code known} is the version stored: then the document is
   * {@code null} and the caller makes the record from the template.
   */
  private @Nullable Row fetch(String sid, ReadCache.@Nullable Entry known) {
    return call(
        "load",
        sid,
        c -> {
          if (known == null) {
            try (PreparedStatement ps = c.prepareStatement(table.load)) {
              ps.setString(1, sid);
              return readRow(ps.executeQuery());
            }
          }
          try (PreparedStatement ps = c.prepareStatement(table.loadIfChanged)) {
            ps.setString(1, known.stamp());
            ps.setString(2, sid);
            return readRow(ps.executeQuery());
          }
        });
  }

  /**
   * Writes what the request changed. A record never stored is inserted; a loaded record whose
   * attributes and interval are unchanged writes nothing, or only its expiry once {@link
   * PgSessionConfig#touchFraction()} of the interval has passed since the stored expiry was set; a
   * record whose attributes changed writes its document, and its expiry too on the same condition
   * or when its interval changed. Each value is compared with what was read, so values changed in
   * place count as changes: a string, number, JDK value or plain list or map by a snapshot taken
   * when it was read, any other value by its encoded JSON. An unchanged value keeps its stored JSON
   * as it is.
   *
   * <p>An attribute that cannot be stored keeps its previously stored value, the rest of the
   * session is written, and then a {@link PgSessionException} names the attribute and its class.
   */
  public SaveOutcome save(SessionRecord record) {
    List<String> failures = new ArrayList<>();
    Encoded encoded = encodeAttributes(record, failures);
    SaveOutcome outcome = write(record, encoded);
    if (!failures.isEmpty()) {
      throw new PgSessionException(
          "save",
          record.sid(),
          String.join("; ", failures)
              + (outcome == SaveOutcome.GONE ? "" : "; the other attributes were saved"));
    }
    return outcome;
  }

  private SaveOutcome write(SessionRecord record, Encoded encoded) {
    SessionRecord.Baseline base = record.baseline;
    if (base == null) {
      insert(record, encoded);
      return SaveOutcome.INSERTED;
    }
    if (encoded.json().equals(base.json())
        && record.maxInactiveSeconds() == base.maxInactiveSeconds()) {
      if (!touchDue(record, base.storedExpiry())) {
        record.baseline = base.withSnapshots(encoded.snapshots());
        return SaveOutcome.UNCHANGED;
      }
      String touched = touchKeepingStamp(record, base.rowStamp());
      if (touched != null && readCache != null) {
        // The document is as it was read, so what the cache made of it still holds.
        readCache.moved(record.sid(), base.rowStamp(), touched);
      }
      record.baseline =
          new SessionRecord.Baseline(
              base.version(),
              touched,
              record.expiry(),
              base.maxInactiveSeconds(),
              base.json(),
              encoded.snapshots());
      return SaveOutcome.TOUCHED;
    }
    return update(record, encoded, base);
  }

  private boolean touchDue(SessionRecord record, long storedExpiry) {
    if (record.expiry() <= 0 || storedExpiry <= 0) {
      return record.expiry() != storedExpiry;
    }
    long threshold = (long) (config.touchFraction() * record.maxInactiveSeconds() * 1000L);
    return record.expiry() - storedExpiry >= Math.max(threshold, 1);
  }

  /**
   * Whether a write of the document must move {@code expire} too: when the interval changed, or
   * when a request that changed nothing would move it. Otherwise {@code expire} stays as stored, as
   * after a read-only request, and the update changes no indexed column.
   */
  private boolean expiryDue(SessionRecord record, long storedExpiry, int storedMaxInactive) {
    return record.maxInactiveSeconds() != storedMaxInactive || touchDue(record, storedExpiry);
  }

  /**
   * Moves the expiry; if nobody wrote the row since {@code stamp}, the record stays in step with it
   * and the new stamp is returned. Otherwise the expiry is moved all the same and {@code null} is
   * returned, so that a later save of this record re-reads the row before writing.
   */
  private @Nullable String touchKeepingStamp(SessionRecord record, @Nullable String stamp) {
    if (stamp != null) {
      String touched =
          call(
              "touch",
              record.sid(),
              c -> {
                try (PreparedStatement ps = c.prepareStatement(table.touchIfUnchanged)) {
                  ps.setDouble(1, expireSeconds(record.expiry()));
                  ps.setString(2, record.sid());
                  ps.setString(3, stamp);
                  return firstString(ps.executeQuery());
                }
              });
      if (touched != null) {
        return touched;
      }
    }
    touch(record.sid(), record.expiry());
    return null;
  }

  private void insert(SessionRecord record, Encoded encoded) {
    requireStorable("save", record.sid());
    String json = document.assemble(record, encoded.json(), 1);
    checkSize(record.sid(), json);
    String stamp =
        call(
            "save",
            record.sid(),
            c -> {
              if (record.hasFreshId()) {
                try {
                  return insertRow(c, table.insertNew, record, json);
                } catch (SQLException e) {
                  if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    throw e;
                  }
                  // A row has the new id after all (an earlier save whose answer was lost, or an
                  // id the container reused): overwrite it, as the first save of any record does.
                }
              }
              return insertRow(c, table.insert, record, json);
            });
    record.baseline =
        new SessionRecord.Baseline(
            1,
            stamp,
            record.expiry(),
            record.maxInactiveSeconds(),
            encoded.json(),
            encoded.snapshots());
    keep(record, stamp, encoded, 1);
  }

  private @Nullable String insertRow(Connection c, String sql, SessionRecord record, String json)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, record.sid());
      ps.setString(2, json);
      ps.setDouble(3, expireSeconds(record.expiry()));
      return firstString(ps.executeQuery());
    }
  }

  /**
   * Files what was just written as row version {@code stamp} in the read cache, so that the next
   * read of the session, on any request of this node, skips the document while nobody else writes
   * the row. Each snapshot is what its JSON was encoded from, or what it was decoded from when
   * read, so the template makes the same record a read of the document would.
   */
  private void keep(SessionRecord record, @Nullable String stamp, Encoded encoded, long version) {
    if (readCache != null && stamp != null) {
      readCache.put(
          record.sid(),
          stamp,
          SessionDocument.written(record, encoded.json(), encoded.snapshots(), version));
    }
  }

  private SaveOutcome update(SessionRecord record, Encoded encoded, SessionRecord.Baseline base) {
    Map<String, String> toWrite = encoded.json();
    long version = base.version();
    String expected = base.rowStamp();
    long storedExpiry = base.storedExpiry();
    int storedMaxInactive = base.maxInactiveSeconds();
    for (int attempt = 0; attempt < MAX_MERGE_ATTEMPTS; attempt++) {
      String json = document.assemble(record, toWrite, version + 1);
      checkSize(record.sid(), json);
      boolean moveExpiry = expiryDue(record, storedExpiry, storedMaxInactive);
      String written =
          expected == null ? null : conditionalUpdate(record, json, expected, moveExpiry);
      if (written != null) {
        Map<String, @Nullable Object> snapshots =
            attempt > 0 ? applyStored(record, toWrite, encoded) : encoded.snapshots();
        record.baseline =
            new SessionRecord.Baseline(
                version + 1,
                written,
                moveExpiry ? record.expiry() : storedExpiry,
                record.maxInactiveSeconds(),
                toWrite,
                snapshots);
        if (attempt > 0) {
          return SaveOutcome.MERGED;
        }
        keep(record, written, encoded, version + 1);
        return SaveOutcome.UPDATED;
      }
      backOff(attempt);
      SessionRecord current = load(record.sid());
      if (current == null || current.baseline == null) {
        log.debug(
            "pgsession[{}] session {} is gone; not revived",
            table.name,
            SessionIds.forLog(record.sid()));
        return SaveOutcome.GONE;
      }
      toWrite = merge(current.baseline.json(), base.json(), encoded.json());
      version = current.baseline.version();
      expected = current.baseline.rowStamp();
      storedExpiry = current.baseline.storedExpiry();
      storedMaxInactive = current.baseline.maxInactiveSeconds();
      log.debug(
          "pgsession[{}] session {} was changed concurrently; re-applying on top of version {}",
          table.name,
          SessionIds.forLog(record.sid()),
          version);
    }
    return updateLocked(record, encoded, base);
  }

  /**
   * The last resort after repeated conflicts: reads the row with {@code FOR UPDATE} and writes this
   * request's changes on top in the same transaction, so no other writer can slip in between. Only
   * one row is locked, so this cannot deadlock with other saves.
   */
  private SaveOutcome updateLocked(
      SessionRecord record, Encoded encoded, SessionRecord.Baseline base) {
    return call(
        "save",
        record.sid(),
        c -> Transactions.inTransaction(c, tx -> updateUnderLock(tx, record, encoded, base)));
  }

  private SaveOutcome updateUnderLock(
      Connection c, SessionRecord record, Encoded encoded, SessionRecord.Baseline base)
      throws SQLException {
    Row row;
    try (PreparedStatement ps = c.prepareStatement(table.load + " FOR UPDATE")) {
      ps.setString(1, record.sid());
      row = readRow(ps.executeQuery());
    }
    SessionRecord current = row == null ? null : decode(record.sid(), row);
    if (current == null || current.baseline == null) {
      return SaveOutcome.GONE;
    }
    Map<String, String> toWrite = merge(current.baseline.json(), base.json(), encoded.json());
    long version = current.baseline.version();
    String json = document.assemble(record, toWrite, version + 1);
    checkSize(record.sid(), json);
    long storedExpiry = current.baseline.storedExpiry();
    boolean moveExpiry = expiryDue(record, storedExpiry, current.baseline.maxInactiveSeconds());
    String written =
        current.baseline.rowStamp() == null
            ? null
            : runUpdate(c, record, json, current.baseline.rowStamp(), moveExpiry);
    if (written == null) {
      throw new PgSessionException(
          "save", record.sid(), "the locked row changed under its lock; nothing was written");
    }
    Map<String, @Nullable Object> snapshots = applyStored(record, toWrite, encoded);
    record.baseline =
        new SessionRecord.Baseline(
            version + 1,
            written,
            moveExpiry ? record.expiry() : storedExpiry,
            record.maxInactiveSeconds(),
            toWrite,
            snapshots);
    return SaveOutcome.MERGED;
  }

  /**
   * Waits a random time, up to 1, 2, 4 ... 32 ms as conflicts repeat, so that requests which
   * collided on one session do not re-read and write again in lockstep and collide once more.
   */
  private static void backOff(int attempt) {
    long maxMillis = 1L << Math.min(attempt, 5);
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(maxMillis + 1));
    } catch (InterruptedException e) {
      // Keep the request going without the pause; its caller sees the interrupt.
      Thread.currentThread().interrupt();
    }
  }

  /** The stored attributes with this request's own changes (against what it read) on top. */
  private static Map<String, String> merge(
      Map<String, String> current, Map<String, String> read, Map<String, String> mine) {
    Map<String, String> merged = new LinkedHashMap<>(current);
    for (Map.Entry<String, String> e : mine.entrySet()) {
      if (!e.getValue().equals(read.get(e.getKey()))) {
        merged.put(e.getKey(), e.getValue());
      }
    }
    for (String name : read.keySet()) {
      if (!mine.containsKey(name)) {
        merged.remove(name);
      }
    }
    return merged;
  }

  /**
   * After a merge, brings the record's attribute values up to what was written; returns the
   * snapshots of the values that now stand for the written JSON.
   */
  private Map<String, @Nullable Object> applyStored(
      SessionRecord record, Map<String, String> written, Encoded mine) {
    Map<String, Object> attributes = record.attributes();
    attributes.keySet().retainAll(written.keySet());
    Map<String, @Nullable Object> snapshots = new HashMap<>();
    for (Map.Entry<String, String> e : written.entrySet()) {
      String name = e.getKey();
      if (e.getValue().equals(mine.json().get(name))) {
        if (mine.snapshots().containsKey(name)) {
          snapshots.put(name, mine.snapshots().get(name));
        }
        continue;
      }
      Object value = document.decodeValue(e.getValue());
      attributes.put(name, value);
      Object snapshot = SessionDocument.snapshotOf(value, e.getValue());
      if (snapshot != Snapshots.NONE) {
        snapshots.put(name, snapshot);
      }
    }
    return snapshots;
  }

  /**
   * Writes the document, and the expiry if {@code moveExpiry}, if the row is still as read; returns
   * its new stamp, or null.
   */
  private @Nullable String conditionalUpdate(
      SessionRecord record, String json, String expected, boolean moveExpiry) {
    return call("save", record.sid(), c -> runUpdate(c, record, json, expected, moveExpiry));
  }

  private @Nullable String runUpdate(
      Connection c, SessionRecord record, String json, String expected, boolean moveExpiry)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(moveExpiry ? table.update : table.updateDocument)) {
      int i = 1;
      ps.setString(i++, json);
      if (moveExpiry) {
        ps.setDouble(i++, expireSeconds(record.expiry()));
      }
      ps.setString(i++, record.sid());
      ps.setString(i, expected);
      return firstString(ps.executeQuery());
    }
  }

  private static @Nullable String firstString(ResultSet rs) throws SQLException {
    try (rs) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /**
   * Each attribute's JSON: the stored JSON for a value that is the same as its snapshot, else the
   * value encoded now. A value that cannot be encoded keeps its stored JSON (if any) and is
   * reported in {@code failures}.
   */
  private Encoded encodeAttributes(SessionRecord record, List<String> failures) {
    Encoded asRead = unchangedSinceRead(record);
    if (asRead != null) {
      return asRead;
    }
    Map<String, String> encoded = new LinkedHashMap<>();
    Map<String, @Nullable Object> snapshots = new HashMap<>();
    SessionRecord.Baseline base = record.baseline;
    Map<String, String> previous = base == null ? Map.of() : base.json();
    Map<String, @Nullable Object> known = base == null ? Map.of() : base.snapshots();
    for (Map.Entry<String, Object> attribute : record.attributes().entrySet()) {
      String name = attribute.getKey();
      Object value = attribute.getValue();
      String stored = previous.get(name);
      if (stored != null && known.containsKey(name)) {
        Object snapshot = known.get(name);
        if (Snapshots.unchanged(value, snapshot)) {
          encoded.put(name, stored);
          snapshots.put(name, snapshot);
          continue;
        }
      }
      try {
        // A name that UTF-8 cannot carry would reach the row altered, as a different attribute.
        ValueCodec.checkText(name);
        // The JSON is made from the snapshot, so the two agree even when another request using
        // the session changes the value meanwhile; that change then differs from the snapshot
        // and is written next time. The read cache relies on the agreement (see keep()).
        Object snapshot = Snapshots.of(value);
        encoded.put(name, document.encodeValue(snapshot != Snapshots.NONE ? snapshot : value));
        if (snapshot != Snapshots.NONE) {
          snapshots.put(name, snapshot);
        }
      } catch (CodecException e) {
        failures.add(
            "attribute '"
                + name
                + "' of class "
                + (value == null ? "null" : value.getClass().getName())
                + " cannot be stored: "
                + e.getMessage());
        if (stored != null) {
          encoded.put(name, stored);
        }
      }
    }
    return new Encoded(encoded, snapshots);
  }

  /**
   * The baseline's own maps when the record has the same attributes as were read and each value
   * still equals its snapshot, as in most requests; {@code null} otherwise. It gives what the loop
   * in {@link #encodeAttributes} would, without building new maps.
   */
  private static @Nullable Encoded unchangedSinceRead(SessionRecord record) {
    SessionRecord.Baseline base = record.baseline;
    Map<String, Object> attributes = record.attributes();
    if (base == null
        || base.snapshots().size() != attributes.size()
        || base.json().size() != attributes.size()) {
      return null;
    }
    // Every stored attribute with a snapshot has its JSON too, so equal sizes and every name
    // having a snapshot mean the same names throughout.
    for (Map.Entry<String, Object> attribute : attributes.entrySet()) {
      Object snapshot = base.snapshots().get(attribute.getKey());
      if ((snapshot == null && !base.snapshots().containsKey(attribute.getKey()))
          || !Snapshots.unchanged(attribute.getValue(), snapshot)) {
        return null;
      }
    }
    return new Encoded(base.json(), base.snapshots());
  }

  /** The attributes' JSON for a save, and the snapshots of the values it was made from. */
  private record Encoded(Map<String, String> json, Map<String, @Nullable Object> snapshots) {}

  private void checkSize(String sid, String json) {
    long limit = config.maxSessionBytes();
    // No character takes more than three bytes in UTF-8, so most documents need no counting.
    if (limit <= 0 || json.length() * 3L <= limit) {
      return;
    }
    long bytes = SessionDocument.utf8Length(json);
    if (bytes > limit) {
      throw new PgSessionException(
          "save",
          sid,
          "the session document is "
              + bytes
              + " bytes, over the limit of "
              + config.maxSessionBytes()
              + " (setting maxSessionBytes); nothing was written and the stored session is"
              + " unchanged");
    }
  }

  /** Moves a session's expiry later (never earlier); returns whether the row exists. */
  public boolean touch(String sid, long expiry) {
    if (!isStorable(sid)) {
      return false;
    }
    return call(
            "touch",
            sid,
            c -> {
              try (PreparedStatement ps = c.prepareStatement(table.touch)) {
                ps.setDouble(1, expireSeconds(expiry));
                ps.setString(2, sid);
                return firstString(ps.executeQuery());
              }
            })
        != null;
  }

  /** Deletes a session; returns whether there was a row. */
  public boolean delete(String sid) {
    if (!isStorable(sid)) {
      return false;
    }
    forget(sid);
    return call("delete", sid, c -> update(c, table.delete, sid)) == 1;
  }

  /** Drops what the read cache holds of a session. */
  private void forget(String sid) {
    if (readCache != null) {
      readCache.remove(sid);
    }
  }

  /** The read cache, for tests; {@code null} when {@code readCacheBytes} is 0. */
  @Nullable ReadCache readCache() {
    return readCache;
  }

  /** Whether a session with this id is stored and not expired. */
  public boolean exists(String sid) {
    if (!isStorable(sid)) {
      return false;
    }
    return call(
        "exists",
        sid,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(table.exists)) {
            ps.setString(1, sid);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next();
            }
          }
        });
  }

  /**
   * Gives a stored session a new id, keeping its data, in one statement. Returns false when there
   * is no row under the old id. Fails if the new id is taken.
   */
  public boolean changeId(String oldSid, String newSid) {
    if (!isStorable(oldSid)) {
      return false;
    }
    requireStorable("changeId", newSid);
    forget(oldSid);
    return call(
            "changeId",
            oldSid,
            c -> {
              try (PreparedStatement ps = c.prepareStatement(table.changeId)) {
                ps.setString(1, newSid);
                ps.setString(2, oldSid);
                return ps.executeUpdate();
              }
            })
        == 1;
  }

  /**
   * The ids of this context's sessions that expired at least {@code minAgeSeconds} ago, oldest
   * first, at most {@code limit}. Uses the expire index.
   */
  public List<String> expiredIds(String context, long minAgeSeconds, int limit) {
    return call(
        "expiredIds",
        null,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(table.expired)) {
            ps.setDouble(1, minAgeSeconds);
            ps.setString(2, context);
            ps.setInt(3, limit);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                ids.add(rs.getString(1));
              }
            }
            return ids;
          }
        });
  }

  /**
   * Deletes an expired session and returns what it held, in one statement, so that among nodes
   * racing to expire it exactly one gets it (and fires its listeners). Returns {@code null} if the
   * session is gone or not expired, or its data cannot be decoded (the row is deleted then too).
   */
  public @Nullable SessionRecord takeExpired(String sid) {
    if (!isStorable(sid)) {
      return null;
    }
    Row row =
        call(
            "takeExpired",
            sid,
            c -> {
              try (PreparedStatement ps = c.prepareStatement(table.takeExpired)) {
                ps.setString(1, sid);
                return readRow(ps.executeQuery());
              }
            });
    if (row == null) {
      return null;
    }
    SessionRecord taken = decode(sid, row);
    forget(sid);
    return taken;
  }

  /**
   * Deletes rows that expired more than {@link PgSessionConfig#reaperGrace()} ago, in batches of
   * {@link PgSessionConfig#reaperBatchSize()}, while this node holds the reaper's advisory lock.
   * Returns the number of rows deleted, or -1 when another node was reaping.
   */
  public long reap() {
    long total = 0;
    while (true) {
      int deleted = reapBatch();
      if (deleted < 0) {
        return total == 0 ? -1 : total;
      }
      total += deleted;
      if (deleted < config.reaperBatchSize()) {
        return total;
      }
    }
  }

  private int reapBatch() {
    return call(
        "reap",
        null,
        c ->
            Transactions.inTransaction(
                c,
                tx -> {
                  if (!tryReaperLock(tx)) {
                    return -1;
                  }
                  try (PreparedStatement ps = tx.prepareStatement(table.reap)) {
                    ps.setDouble(1, config.reaperGrace().toMillis() / 1000.0);
                    ps.setInt(2, config.reaperBatchSize());
                    return ps.executeUpdate();
                  }
                }));
  }

  private boolean tryReaperLock(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT pg_try_advisory_xact_lock(" + table.reaperLockKey + ")")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  /** Creates the table now if it is missing (it is otherwise created on first use). */
  public void ensureTable() {
    table.ensureReady(dataSource);
  }

  /** The schema-qualified, quoted table name this store uses. */
  public String tableName() {
    return table.name;
  }

  // ---------------------------------------------------------------- plumbing

  private @Nullable SessionRecord decode(String sid, Row row) {
    byte[] json = row.json();
    try {
      if (json == null) {
        // Only a table made by hand lets sess be NULL.
        throw new CodecException("the document (the sess column) is NULL");
      }
      SessionRecord r;
      if (readCache == null) {
        r = document.decode(sid, json, row.expiry(), System.currentTimeMillis());
      } else {
        SessionDocument.Decoded d =
            document.decodeReusable(sid, json, row.expiry(), System.currentTimeMillis());
        r = d.record();
        readCache.put(sid, row.stamp(), d.template());
      }
      r.baseline = r.baseline == null ? null : r.baseline.withStamp(row.stamp());
      return r;
    } catch (CodecException e) {
      forget(sid);
      if (config.onUndecodable() == PgSessionConfig.UndecodablePolicy.FAIL) {
        throw new PgSessionException(
            "load", sid, "the stored session cannot be read: " + e.getMessage(), e);
      }
      if (reportedUndecodable.add(sid)) {
        log.warn(
            "pgsession[{}] session {} cannot be read and is treated as absent, so its user gets"
                + " a new session; the row is left as it is: {}",
            table.name,
            SessionIds.forLog(sid),
            e.getMessage());
      }
      return null;
    }
  }

  private @Nullable Row readRow(ResultSet rs) throws SQLException {
    try (rs) {
      if (!rs.next()) {
        return null;
      }
      // The document's bytes as the server sent them (UTF-8): decoding reads them directly.
      return new Row(rs.getBytes(1), table.expiryOf(rs, 2), rs.getString(3));
    }
  }

  private static double expireSeconds(long expiry) {
    return expiry <= 0 ? Double.POSITIVE_INFINITY : expiry / 1000.0;
  }

  private static int update(Connection c, String sql, String sid) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, sid);
      return ps.executeUpdate();
    }
  }

  /**
   * Whether an id can be a row key at all: PostgreSQL text holds no NUL, an unpaired surrogate has
   * no UTF-8 form (the driver would store a different id), and a btree index entry must stay well
   * under a third of a page, so the id is limited in UTF-8 bytes. Such ids cannot name a stored
   * session, so lookups answer "absent" without asking the database and saves refuse them.
   */
  static boolean isStorable(String sid) {
    if (sid.isEmpty() || sid.length() > MAX_SID_BYTES) {
      return false;
    }
    return sid.indexOf(0) < 0
        && ValueCodec.unpairedSurrogate(sid) < 0
        && SessionDocument.utf8Length(sid) <= MAX_SID_BYTES;
  }

  private static void requireStorable(String operation, String sid) {
    if (!isStorable(sid)) {
      throw new PgSessionException(
          operation,
          sid,
          "the id is empty, longer than "
              + MAX_SID_BYTES
              + " bytes in UTF-8, or holds NUL or unpaired surrogate characters, so it cannot be"
              + " a session id; nothing was written");
    }
  }

  private <T> T call(String operation, @Nullable String sid, SqlWork<T> work) {
    if (!outage.admit()) {
      throw new PgSessionException(
          operation,
          sid,
          "cannot reach the database (it failed moments ago; pgsession tries again within a"
              + " second); the request can be retried");
    }
    try (Connection c = connect(operation, sid)) {
      return autoCommitted(c, work);
    } catch (SQLException e) {
      throw new PgSessionException(operation, sid, describe(e), e);
    }
  }

  /**
   * Runs the work with each statement committed as it runs, as pgsession's writes must be. A data
   * source of the application's may hand out connections with auto-commit off (a common setting for
   * JPA): on those, the writes would wait for a commit that never comes, and the pool would roll
   * them back. The connection goes back in the mode it came in.
   */
  private static <T> T autoCommitted(Connection c, SqlWork<T> work) throws SQLException {
    if (c.getAutoCommit()) {
      return work.run(c);
    }
    c.setAutoCommit(true);
    T result;
    try {
      result = work.run(c);
    } catch (Throwable e) {
      // On a connection the failure cut, switching back fails too: the failure is what is reported.
      Transactions.restore(c, false, e);
      throw e;
    }
    c.setAutoCommit(false);
    return result;
  }

  /**
   * A connection, with the table ready. Only a failure to get one closes the outage gate: an error
   * on a connection already made (one backend terminated, say) says nothing of the others.
   */
  private Connection connect(String operation, @Nullable String sid) {
    try {
      table.ensureReady(dataSource);
      Connection c = dataSource.getConnection();
      outage.succeeded();
      return c;
    } catch (SQLException e) {
      PgSessionException failure = new PgSessionException(operation, sid, describe(e), e);
      report(failure);
      throw failure;
    } catch (PgSessionException e) {
      report(e);
      throw e;
    } catch (RuntimeException | Error e) {
      outage.released();
      throw e;
    }
  }

  private void report(PgSessionException e) {
    if (e.isUnreachable()) {
      outage.failed();
    } else {
      // The database answered, with an error of another kind.
      outage.succeeded();
    }
  }

  private String describe(SQLException e) {
    String state = e.getSQLState();
    if (SessionTable.isUnreachable(e)) {
      return "cannot reach the database ("
          + SessionTable.detail(e)
          + "); the request can be retried";
    }
    if ("42P01".equals(state)) {
      return "the table " + table.name + " is missing (" + e.getMessage() + ")";
    }
    if ("42501".equals(state)) {
      return "the database role may not use "
          + table.name
          + "; GRANT SELECT, INSERT, UPDATE, DELETE on it ("
          + e.getMessage()
          + ")";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  /** A row as read; {@code json} is {@code null} when the read left the document out. */
  private record Row(byte @Nullable [] json, long expiry, String stamp) {}

  @FunctionalInterface
  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }
}
