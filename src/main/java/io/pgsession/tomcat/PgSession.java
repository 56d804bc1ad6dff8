package io.pgsession.tomcat;

import io.pgsession.SessionRecord;
import java.util.Map;
import org.apache.catalina.authenticator.Constants;
import org.apache.catalina.session.StandardSession;
import org.jspecify.annotations.Nullable;

/**
 * A Tomcat session that belongs to one request (or to the expiry that fires its listeners) and to
 * the stored row it was read from.
 *
 * <p>Sessions read from the table are filled without attribute events, because their attributes
 * were bound when the request that set them ran. Expiry and invalidation delete the row first and
 * fire listeners only when this node deleted it, so that across nodes they fire once.
 */
final class PgSession extends StandardSession {
  private static final long serialVersionUID = 1L;

  private final transient PgSessionManager owner;
  private transient @Nullable SessionRecord record;
  private transient boolean rowTaken;

  PgSession(PgSessionManager owner) {
    super(owner);
    this.owner = owner;
  }

  /** A session as stored: no listener fires, nothing is marked new. */
  static PgSession restored(PgSessionManager owner, String id, SessionRecord record) {
    PgSession s = new PgSession(owner);
    s.id = id;
    s.creationTime = record.created();
    s.lastAccessedTime = record.accessed();
    s.thisAccessedTime = record.accessed();
    s.maxInactiveInterval = record.maxInactiveSeconds();
    s.isNew = false;
    s.isValid = true;
    s.record = record;
    for (Map.Entry<String, Object> e : record.attributes().entrySet()) {
      if (e.getValue() != null && !TomcatAuthState.isReserved(e.getKey())) {
        s.attributes.put(e.getKey(), e.getValue());
      }
    }
    TomcatAuthState.restore(s, record.attributes());
    return s;
  }

  /** The record last read or written for this session, or {@code null} if it was never stored. */
  @Nullable SessionRecord record() {
    return record;
  }

  void record(SessionRecord record) {
    this.record = record;
  }

  /** Marks a session whose row this node has already deleted (an expiry it won). */
  void rowTaken() {
    this.rowTaken = true;
  }

  boolean isRowTaken() {
    return rowTaken;
  }

  /** Whether the session is still valid, without the idle check that may expire it. */
  boolean isValidNow() {
    return isValid && !expiring;
  }

  /** The attributes as they are now; a live view, not a copy. */
  Map<String, Object> attributeMap() {
    return attributes;
  }

  /**
   * Saves at once when FORM login records its saved request or expected session id: Tomcat then
   * forwards to the login page on the connector's own response, which it completes before the
   * request returns to the manager's valve, and the login form may be posted to another node.
   */
  @Override
  public void setNote(String name, Object value) {
    super.setNote(name, value);
    if (name.equals(Constants.FORM_REQUEST_NOTE) || name.equals(Constants.SESSION_ID_NOTE)) {
      owner.saveNow(this);
    }
  }

  /**
   * Deletes the row, then lets Tomcat unbind the attributes, firing the session and binding
   * listeners only when this node deleted the row (or the session was never stored).
   */
  @Override
  public void expire(boolean notify) {
    if (!isValid || expiring) {
      return;
    }
    boolean mine = rowTaken || owner.deleteRow(this);
    super.expire(notify && mine);
  }
}
