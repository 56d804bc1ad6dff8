package io.pgsession.jetty;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.server.Context;
import org.eclipse.jetty.session.AbstractSessionDataStore;
import org.eclipse.jetty.session.SessionData;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Jetty {@link org.eclipse.jetty.session.SessionDataStore} over the pgsession table, one per web
 * application. Made by {@link PgSessionDataStoreFactory}.
 *
 * <p>Row keys are the Jetty session id behind a prefix: by default nothing for the root context and
 * the context path plus {@code /} for others ({@code /shop/node01abc}), so that two web
 * applications that share a session id (Jetty reuses ids across contexts) keep separate data. The
 * {@code sidPrefix} setting replaces the default.
 *
 * <p>Writes: Jetty calls {@link #doStore} at the end of every request that used the session (and,
 * with {@code flushOnResponseCommit}, before the response is committed when an attribute was set).
 * The data carries the record it was read from, and {@link PgSessionStore#save} writes nothing when
 * the attributes and the interval are unchanged, or only {@code expire} once {@code touchFraction}
 * of the interval has passed; changed attributes are written with {@code expire} only then, or when
 * the interval changed. Changes made to a mutable attribute value in place are seen too, since
 * every value is compared with what was read. Jetty's {@code savePeriodSec}, when set, throttles
 * further.
 *
 * <p>Id changes ({@code HttpServletRequest.changeSessionId}) move the row in one statement and keep
 * the data. Expiry: the stored rows of this context whose {@code expire} has passed are claimed by
 * one node each (the row is deleted as it is read) and handed to Jetty, which invalidates them so
 * that {@code HttpSessionListener.sessionDestroyed} fires, also for sessions last used by a node
 * that has stopped. Jetty then expires the id in every context of that server, as it always does.
 *
 * <p>Thread-safe, as Jetty requires.
 */
public final class PgSessionDataStore extends AbstractSessionDataStore {
  private static final Logger log = LoggerFactory.getLogger(PgSessionDataStore.class);

  private final PgSessionConfig config;
  private final SharedResources resources;

  /** Sessions whose id Jetty is changing, by their old id, until Jetty deletes the old id. */
  private final Map<String, PgSessionData> renaming = new ConcurrentHashMap<>();

  /** Expired sessions this node took from the table, by id, until Jetty has invalidated them. */
  private final Map<String, SessionRecord> claimed = new ConcurrentHashMap<>();

  /**
   * Set when reading a session failed, until the database answers again. Jetty logs and swallows a
   * failed read and then creates a new session, whose cookie would replace the browser's; while
   * this is set, {@link #newSessionData} first checks that the database answers.
   */
  private final AtomicBoolean readFailed = new AtomicBoolean();

  private volatile @Nullable PgSessionStore store;
  private String contextPath = "/";
  private String prefix = "";

  PgSessionDataStore(PgSessionConfig config, SharedResources resources) {
    this.config = Objects.requireNonNull(config, "config");
    this.resources = Objects.requireNonNull(resources, "resources");
  }

  /** The text put before a Jetty session id to form the row's {@code sid}; known once started. */
  public String sidPrefix() {
    return prefix;
  }

  /** The core store this Jetty store writes through; only while started. */
  public PgSessionStore store() {
    PgSessionStore s = store;
    if (s == null) {
      throw new IllegalStateException("the pgsession store of " + contextPath + " is not started");
    }
    return s;
  }

  @Override
  protected void doStart() throws Exception {
    super.doStart();
    Context context = _context.getContext();
    contextPath = contextPathOf(context);
    prefix = config.sidPrefix() != null ? config.sidPrefix() : defaultPrefix(contextPath);
    PgSessionStore started =
        new PgSessionStore(resources.acquire(), config, classLoaderOf(context));
    store = started;
    prepareTable(started);
    log.info(
        "pgsession[{}] context {} stores its sessions under sid prefix '{}'",
        started.tableName(),
        contextPath,
        prefix);
  }

  /**
   * Creates the table at start when it is missing, so it exists before the first request. A
   * database that is down now does not stop the web application: the store tries again on first
   * use. A table the database says cannot be used (missing with {@code createTable=false}, without
   * its primary key, not granted) stops the start, since Jetty would otherwise serve every request
   * with sessions that are never stored.
   */
  private void prepareTable(PgSessionStore started) {
    try {
      started.ensureTable();
    } catch (PgSessionException e) {
      if (!e.isUnreachable()) {
        throw e;
      }
      log.warn(
          "pgsession[{}] context {} cannot prepare the table now; will retry on first use",
          started.tableName(),
          contextPath,
          e);
    }
  }

  @Override
  protected void doStop() throws Exception {
    store = null;
    renaming.clear();
    claimed.clear();
    resources.release();
    super.doStop();
  }

  @Override
  public boolean isPassivating() {
    // Attributes leave memory as JSON, so activation listeners are due as with serialisation.
    return true;
  }

  @Override
  public SessionData newSessionData(
      String id, long created, long accessed, long lastAccessed, long maxInactiveMs) {
    if (readFailed.get()) {
      confirmReachable(id);
    }
    return new PgSessionData(
        this,
        id,
        _context.getCanonicalContextPath(),
        _context.getVhost(),
        created,
        accessed,
        lastAccessed,
        maxInactiveMs);
  }

  @Override
  public @Nullable SessionData doLoad(String id) {
    if (!namesOwnRow(id)) {
      return null;
    }
    SessionRecord taken = claimed.get(id);
    SessionRecord record = taken != null ? taken : read(id);
    return record == null ? null : toData(id, record);
  }

  private @Nullable SessionRecord read(String id) {
    try {
      SessionRecord record = store().load(sid(id));
      // Written only when it changes: a write on every read would pass the flag's cache line
      // between the cores of all request threads.
      if (readFailed.get()) {
        readFailed.set(false);
      }
      return record;
    } catch (PgSessionException e) {
      readFailed.set(true);
      throw e;
    }
  }

  /**
   * Fails the creation of a session after a failed read, when creating it would do harm: while the
   * database does not answer, the browser would get a new session id that cannot be saved and that
   * replaces the cookie of its stored session; and when Jetty reuses the id of a row that could not
   * be read ({@code onUndecodable=FAIL}), the new session would overwrite that row.
   */
  private void confirmReachable(String id) {
    boolean stored;
    try {
      stored = store().exists(sid(id));
    } catch (PgSessionException e) {
      throw new PgSessionException(
          "create",
          id,
          "reading the requested session failed and the database still does not answer, so no"
              + " new session is created (its cookie would replace the stored session's); the"
              + " request can be retried",
          e);
    }
    if (stored) {
      throw new PgSessionException(
          "create",
          id,
          "the stored session with this id could not be read, so it is not replaced by a new one");
    }
    readFailed.set(false);
  }

  @Override
  public void doStore(String id, SessionData data, long lastSaveTime) {
    PgSessionData pg = data instanceof PgSessionData p ? p : null;
    SessionRecord record = recordFor(id, data, pg);
    if (pg != null) {
      // Attached before the save: a save that stores some attributes and then reports one it
      // could not store has still moved the record's baseline.
      pg.record = record;
    }
    PgSessionStore.SaveOutcome outcome = store().save(record);
    if (outcome == PgSessionStore.SaveOutcome.MERGED) {
      // Another node changed the session meanwhile; keep this copy in step with the row.
      data.clearAllAttributes();
      putNonNull(data, record.attributes());
    }
    log.debug("pgsession {} session {} stored: {}", contextPath, id, outcome);
  }

  @Override
  public boolean delete(String id) {
    PgSessionData renamed = renaming.remove(id);
    if (renamed != null) {
      return moveRow(id, renamed);
    }
    if (claimed.remove(id) != null) {
      return true;
    }
    return namesOwnRow(id) && store().delete(sid(id));
  }

  @Override
  public boolean doExists(String id) {
    return namesOwnRow(id) && !claimed.containsKey(id) && store().exists(sid(id));
  }

  @Override
  public Set<String> getExpired(Set<String> candidates) {
    // Jetty invalidates everything the previous run returned before it runs again.
    claimed.clear();
    return super.getExpired(candidates);
  }

  /**
   * Checks the sessions this node's cache found expired. Each one still expired in the table is
   * claimed; one whose row is gone (invalidated or expired elsewhere) is returned too, so that the
   * cached copy goes; one that another node has used meanwhile is not.
   */
  @Override
  public Set<String> doCheckExpired(Set<String> candidates, long time) {
    Set<String> expired = new HashSet<>();
    for (String id : candidates) {
      try {
        if (claim(id) || !store().exists(sid(id))) {
          expired.add(id);
        }
      } catch (PgSessionException e) {
        log.warn("pgsession {} cannot check the expiry of session {}", contextPath, id, e);
      }
    }
    return expired;
  }

  /**
   * Finds this context's sessions that expired at or before {@code before} (those of stopped nodes
   * included) and claims them, at most {@code reaperBatchSize} per run.
   */
  @Override
  public Set<String> doGetExpired(long before) {
    long minAgeSeconds = Math.max(0, (System.currentTimeMillis() - before) / 1000);
    Set<String> expired = new HashSet<>();
    try {
      List<String> sids = store().expiredIds(contextPath, minAgeSeconds, config.reaperBatchSize());
      for (String sid : sids) {
        if (sid.startsWith(prefix) && claim(sid.substring(prefix.length()))) {
          expired.add(sid.substring(prefix.length()));
        }
      }
    } catch (PgSessionException e) {
      log.warn("pgsession {} cannot look for expired sessions; will try again", contextPath, e);
    }
    return expired;
  }

  /**
   * Does nothing: rows of other contexts that nobody expires are deleted by the shared {@link
   * io.pgsession.SessionReaper} once {@code reaperGrace} has passed.
   */
  @Override
  public void doCleanOrphans(long time) {}

  /** Called by {@link PgSessionData#setId} when Jetty starts to renew a session's id. */
  void idChanging(String oldId, PgSessionData data) {
    renaming.put(oldId, data);
  }

  // ---------------------------------------------------------------- mapping

  private String sid(String id) {
    if (!namesOwnRow(id)) {
      throw new PgSessionException(
          "store", id, "a session id holding '/' could name another context's row; not stored");
    }
    return prefix.isEmpty() ? id : prefix.concat(id);
  }

  /**
   * Whether an id can name a row of this context. Behind the prefix, an id holding {@code /} would
   * spell the row of another web application ({@code /shop/x} in the root context, {@code b/x} in
   * {@code /a} for {@code /a/b}). Jetty never generates one, so it comes from a forged cookie and
   * is treated as no session.
   */
  private static boolean namesOwnRow(String id) {
    return id.indexOf('/') < 0;
  }

  /** Takes an expired row out of the table; true if this node got it. */
  private boolean claim(String id) {
    if (!namesOwnRow(id)) {
      return false;
    }
    SessionRecord taken = store().takeExpired(sid(id));
    if (taken == null) {
      return false;
    }
    claimed.put(id, taken);
    log.debug("pgsession {} claimed expired session {}", contextPath, id);
    return true;
  }

  private boolean moveRow(String oldId, PgSessionData data) {
    SessionRecord record = data.record;
    if (record == null || !record.isStored()) {
      return false;
    }
    String newSid = sid(data.getId());
    boolean moved = store().changeId(record.sid(), newSid);
    // Kept even when the row was gone (invalidated on another node meanwhile): the save Jetty
    // makes next then finds no row under the new id and does not revive the session.
    data.record = record.withSid(newSid);
    log.debug("pgsession {} session {} renamed to {}: {}", contextPath, oldId, data.getId(), moved);
    return moved;
  }

  private PgSessionData toData(String id, SessionRecord r) {
    PgSessionData data =
        new PgSessionData(
            this,
            id,
            _context.getCanonicalContextPath(),
            _context.getVhost(),
            r.created(),
            r.accessed(),
            r.lastAccessed(),
            r.maxInactiveSeconds() <= 0 ? -1 : r.maxInactiveSeconds() * 1000L);
    data.setExpiry(r.expiry());
    data.setLastNode(r.lastNode());
    data.setCookieSet(r.accessed());
    putNonNull(data, r.attributes());
    // Jetty treats data never saved as a new session; this one was saved at its last access.
    data.setLastSaved(Math.max(1, r.accessed()));
    data.record = r;
    data.clean();
    return data;
  }

  private SessionRecord recordFor(String id, SessionData data, @Nullable PgSessionData pg) {
    SessionRecord known = pg == null ? null : pg.record;
    SessionRecord record;
    if (known != null && known.sid().equals(sid(id))) {
      record = known;
    } else if (pg != null && known == null) {
      // Made by newSessionData and never stored: a session Jetty has just created.
      record = SessionRecord.newSession(sid(id), data.getCreated(), maxInactiveSeconds(data));
    } else {
      record = new SessionRecord(sid(id), data.getCreated(), maxInactiveSeconds(data));
    }
    record
        .created(data.getCreated())
        .accessed(data.getAccessed())
        .lastAccessed(data.getLastAccessed())
        .maxInactiveSeconds(maxInactiveSeconds(data))
        .expiry(data.getExpiry())
        .context(contextPath)
        .lastNode(data.getLastNode());
    Map<String, Object> now = data.getAllAttributes();
    if (!sameEntries(record.attributes(), now)) {
      record.attributes().clear();
      record.attributes().putAll(now);
    }
    return record;
  }

  /** Whether both maps hold the same names with the very same values, as after a read-only use. */
  private static boolean sameEntries(Map<String, Object> record, Map<String, Object> jetty) {
    if (record.size() != jetty.size()) {
      return false;
    }
    for (Map.Entry<String, Object> e : jetty.entrySet()) {
      if (record.get(e.getKey()) != e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static int maxInactiveSeconds(SessionData data) {
    long ms = data.getMaxInactiveMs();
    if (ms <= 0) {
      return -1;
    }
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (ms + 999) / 1000));
  }

  /**
   * Puts the attributes into Jetty's data, which holds no nulls: a stored null is an absent
   * attribute. The data is marked clean afterwards by the caller (or by Jetty after a store).
   */
  private static void putNonNull(SessionData data, Map<String, ?> attributes) {
    // A loop rather than forEach with a lambda: it runs on every read, and the JIT does not always
    // remove the lambda's allocation, which then goes through the VM.
    for (Map.Entry<String, ?> e : attributes.entrySet()) {
      if (e.getValue() != null) {
        data.setAttribute(e.getKey(), e.getValue());
      }
    }
  }

  static String contextPathOf(@Nullable Context context) {
    String path = context == null ? null : context.getContextPath();
    return path == null || path.isEmpty() ? "/" : path;
  }

  static String defaultPrefix(String contextPath) {
    return contextPath.equals("/") ? "" : contextPath + "/";
  }

  private static ClassLoader classLoaderOf(@Nullable Context context) {
    ClassLoader loader = context == null ? null : context.getClassLoader();
    if (loader == null) {
      loader = Thread.currentThread().getContextClassLoader();
    }
    return loader != null ? loader : PgSessionDataStore.class.getClassLoader();
  }

  @Override
  public String toString() {
    return "PgSessionDataStore[" + contextPath + ", prefix='" + prefix + "']";
  }
}
