package io.pgsession.jetty;

import io.pgsession.SessionRecord;
import org.eclipse.jetty.session.SessionData;
import org.jspecify.annotations.Nullable;

/**
 * Jetty's session data with the pgsession record it was read from (or last written as) attached, so
 * that a save compares against what was read and writes only what a request changed.
 */
final class PgSessionData extends SessionData {
  private static final long serialVersionUID = 1L;

  private final transient PgSessionDataStore owner;
  transient @Nullable SessionRecord record;

  PgSessionData(
      PgSessionDataStore owner,
      String id,
      String contextPath,
      String vhost,
      long created,
      long accessed,
      long lastAccessed,
      long maxInactiveMs) {
    super(id, contextPath, vhost, created, accessed, lastAccessed, maxInactiveMs);
    this.owner = owner;
  }

  /**
   * Also true, unless Jetty's {@code savePeriodSec} throttles saves, when no attribute was set: an
   * attribute value may have been changed in place, which Jetty cannot see. Jetty writes a dirty
   * session before the response is committed ({@code flushOnResponseCommit}), so such a change
   * reaches the table before the client can send its next request to another node; the store
   * compares each value with what was read and writes nothing when nothing changed.
   */
  @Override
  public boolean isDirty() {
    return super.isDirty() || owner.getSavePeriodSec() <= 0;
  }

  /**
   * Jetty changes the id of the data in place when it renews a session id, and then deletes the old
   * id and stores the new one. Telling the store first lets it move the row in one statement
   * instead.
   */
  @Override
  public void setId(String id) {
    String old = getId();
    super.setId(id);
    if (old != null && !old.equals(id)) {
      owner.idChanging(old, this);
    }
  }
}
