package io.pgsession.tomcat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The sessions one request has found or created. Each id is read from the table at most once per
 * request, so the request sees one consistent copy; the copies are saved and dropped when the
 * request ends. Synchronized because an asynchronous request may touch it from several threads.
 */
final class RequestScope {
  /** Stands for "looked up, no session" in the cache. */
  private static final Object ABSENT = new Object();

  private final Map<String, Object> found = new HashMap<>();
  private final List<PgSession> used = new ArrayList<>(2);
  private boolean finished;
  private boolean asyncListening;

  /** The session for {@code id}, read through {@code loader} on the first call only. */
  synchronized @Nullable PgSession find(String id, Function<String, @Nullable PgSession> loader) {
    Object cached = found.get(id);
    if (cached == null) {
      PgSession loaded = loader.apply(id);
      found.put(id, loaded == null ? ABSENT : loaded);
      return loaded;
    }
    return cached == ABSENT ? null : (PgSession) cached;
  }

  /** Remembers a session this request uses, once. */
  synchronized void use(PgSession session) {
    for (PgSession s : used) {
      if (s == session) {
        return;
      }
    }
    used.add(session);
  }

  /**
   * The sessions to save, the first time the request ends; empty on later calls, so that a request
   * ended both by its last dispatch and by an async listener is saved once.
   */
  synchronized List<PgSession> finish() {
    if (finished) {
      return List.of();
    }
    finished = true;
    return List.copyOf(used);
  }

  /** Whether an async listener still has to be registered; true once. */
  synchronized boolean claimAsyncListener() {
    boolean first = !asyncListening;
    asyncListening = true;
    return first;
  }
}
