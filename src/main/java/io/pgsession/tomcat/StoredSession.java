package io.pgsession.tomcat;

import io.pgsession.SessionRecord;
import java.util.Map;
import org.apache.catalina.Manager;
import org.apache.catalina.session.StandardSession;

/** A session {@link PgStore} read from the table, filled without firing attribute events. */
final class StoredSession extends StandardSession {
  private static final long serialVersionUID = 1L;

  private StoredSession(Manager manager) {
    super(manager);
  }

  static StoredSession of(Manager manager, String id, SessionRecord record) {
    StoredSession s = new StoredSession(manager);
    s.id = id;
    s.creationTime = record.created();
    s.lastAccessedTime = record.accessed();
    s.thisAccessedTime = record.accessed();
    s.maxInactiveInterval = record.maxInactiveSeconds();
    s.isNew = false;
    s.isValid = true;
    for (Map.Entry<String, Object> e : record.attributes().entrySet()) {
      if (e.getValue() != null && !TomcatAuthState.isReserved(e.getKey())) {
        s.attributes.put(e.getKey(), e.getValue());
      }
    }
    TomcatAuthState.restore(s, record.attributes());
    return s;
  }
}
