package io.pgsession.contract;

import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What the store contract drives: one adapter (the core store, Jetty's data store, Tomcat's
 * manager) seen through the operations a container performs for requests.
 */
public interface ContractSubject extends AutoCloseable {
  /** Stores a new session under the container id {@code id}. */
  void create(String id, Map<String, Object> attributes, int maxInactiveSeconds);

  /** The attributes of the live session, or {@code null} if absent, expired or unreadable. */
  @Nullable Map<String, Object> load(String id);

  /** Does what a request that sets and removes attributes does, including the save. */
  void update(String id, Map<String, Object> set, Set<String> removed);

  /** Does what a request that only reads the session does, including the end-of-request save. */
  void access(String id);

  /** Whether a live session with this id is stored. */
  boolean exists(String id);

  /** Invalidates the session. */
  void invalidate(String id);

  /** Gives the session a new id, as HttpServletRequest.changeSessionId does. */
  void changeId(String oldId, String newId);

  /** The row key ({@code sid}) this adapter stores the container id under. */
  String sid(String id);

  @Override
  void close();
}
