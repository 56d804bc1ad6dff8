package io.pgsession;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One session as the store reads and writes it: its metadata and its attributes.
 *
 * <p>A record returned by {@link PgSessionStore#load} remembers what was read (the row's version
 * and each attribute's stored JSON), so that {@link PgSessionStore#save} writes only what a request
 * changed and detects writes made meanwhile by other nodes. Not thread-safe: a record belongs to
 * one request at a time.
 */
public final class SessionRecord {
  private final String sid;
  private long created;
  private long accessed;
  private long lastAccessed;
  private int maxInactiveSeconds;
  private long expiry;
  private String context = "/";
  private @Nullable String lastNode;
  private final Map<String, Object> attributes;
  @Nullable Baseline baseline;
  private boolean freshId;

  /**
   * A session not read from the table, such as one a container kept elsewhere: its first save
   * writes the row whether one is there or not.
   */
  public SessionRecord(String sid, long createdMillis, int maxInactiveSeconds) {
    this(sid, createdMillis, maxInactiveSeconds, new LinkedHashMap<>());
  }

  /**
   * A session created just now under a new id, one that no row is expected to have. Its first save
   * is a plain {@code INSERT}, which costs the server less than the upsert of a session that may be
   * stored already; should a row have the key after all, the save then overwrites it as any first
   * save does.
   */
  public static SessionRecord newSession(String sid, long createdMillis, int maxInactiveSeconds) {
    SessionRecord record = new SessionRecord(sid, createdMillis, maxInactiveSeconds);
    record.freshId = true;
    return record;
  }

  /** A session whose attributes are {@code attributes}, which the record takes over. */
  SessionRecord(
      String sid, long createdMillis, int maxInactiveSeconds, Map<String, Object> attributes) {
    this.sid = sid;
    this.created = createdMillis;
    this.accessed = createdMillis;
    this.lastAccessed = createdMillis;
    this.maxInactiveSeconds = maxInactiveSeconds;
    this.expiry = expiryFor(createdMillis, maxInactiveSeconds);
    this.attributes = attributes;
  }

  /** The row key: the container's session id behind the context's prefix. */
  public String sid() {
    return sid;
  }

  public long created() {
    return created;
  }

  public SessionRecord created(long millis) {
    this.created = millis;
    return this;
  }

  /** When the current (or latest) request accessed the session, in epoch milliseconds. */
  public long accessed() {
    return accessed;
  }

  public SessionRecord accessed(long millis) {
    this.accessed = millis;
    return this;
  }

  /** When the request before the current one accessed the session. */
  public long lastAccessed() {
    return lastAccessed;
  }

  public SessionRecord lastAccessed(long millis) {
    this.lastAccessed = millis;
    return this;
  }

  /** The inactivity interval in seconds; zero or less means the session never expires. */
  public int maxInactiveSeconds() {
    return maxInactiveSeconds;
  }

  public SessionRecord maxInactiveSeconds(int seconds) {
    this.maxInactiveSeconds = seconds;
    return this;
  }

  /** When the session expires, in epoch milliseconds; {@code 0} means never. */
  public long expiry() {
    return expiry;
  }

  public SessionRecord expiry(long millis) {
    this.expiry = millis;
    return this;
  }

  /** The web application the session belongs to, as its context path. */
  public String context() {
    return context;
  }

  public SessionRecord context(String context) {
    this.context = context;
    return this;
  }

  /** The name of the node that last wrote the session, if known. */
  public @Nullable String lastNode() {
    return lastNode;
  }

  public SessionRecord lastNode(@Nullable String node) {
    this.lastNode = node;
    return this;
  }

  /** The attributes, in insertion order; the map is the record's own and may be changed. */
  public Map<String, Object> attributes() {
    return attributes;
  }

  /** Whether this record was made by {@link #newSession}. */
  boolean hasFreshId() {
    return freshId;
  }

  /** Whether this record was read from the table (or already written to it). */
  public boolean isStored() {
    return baseline != null;
  }

  /** The version of the row this record was read from or last written as; 0 when new. */
  public long version() {
    return baseline == null ? 0 : baseline.version();
  }

  /**
   * A copy of this record under another row key, keeping what was read, for after {@link
   * PgSessionStore#changeId} moved the row: a save of the copy then writes only what changed.
   */
  public SessionRecord withSid(String newSid) {
    SessionRecord copy = new SessionRecord(newSid, created, maxInactiveSeconds);
    copy.accessed(accessed).lastAccessed(lastAccessed).expiry(expiry).context(context);
    copy.lastNode(lastNode).attributes().putAll(attributes);
    copy.baseline = baseline;
    return copy;
  }

  public boolean isExpiredAt(long millis) {
    return expiry > 0 && expiry <= millis;
  }

  /** The expiry that {@code maxInactiveSeconds} gives for an access at {@code accessedMillis}. */
  public static long expiryFor(long accessedMillis, int maxInactiveSeconds) {
    return maxInactiveSeconds <= 0 ? 0 : accessedMillis + maxInactiveSeconds * 1000L;
  }

  @Override
  public String toString() {
    return "SessionRecord[" + SessionIds.forLog(sid) + ", context=" + context + "]";
  }

  /**
   * What was read from (or last written to) the row: the document's version counter, the row's
   * {@code xmin} as text ({@code null} when unknown, which makes the next save re-read the row),
   * the stored expiry and interval, each attribute's stored JSON, and for the attributes that have
   * one, the {@link Snapshots snapshot} of the value that JSON stands for.
   */
  record Baseline(
      long version,
      @Nullable String rowStamp,
      long storedExpiry,
      int maxInactiveSeconds,
      Map<String, String> json,
      Map<String, @Nullable Object> snapshots) {
    Baseline withStamp(@Nullable String stamp) {
      return new Baseline(version, stamp, storedExpiry, maxInactiveSeconds, json, snapshots);
    }

    Baseline withSnapshots(Map<String, @Nullable Object> newer) {
      return newer == snapshots
          ? this
          : new Baseline(version, rowStamp, storedExpiry, maxInactiveSeconds, json, newer);
    }
  }
}
