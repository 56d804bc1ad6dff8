package io.pgsession.bench;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One session store, driven the way its servlet container or framework drives it during a request:
 * open (load and mark accessed), read or change attributes, then the end-of-request save.
 *
 * <p>Implementations are thread-safe; a session object belongs to one thread at a time. Times are
 * epoch milliseconds passed in by the harness, so that a workload can make a request arrive later
 * than the wall clock (to force a touch) where the store takes the time from its caller.
 *
 * @param <S> the store's own session object
 */
interface StoreDriver<S> extends AutoCloseable {
  /** The label in the results. */
  String name();

  /** Creates the store's tables if needed and removes every stored session. */
  void clear() throws Exception;

  /** Creates and saves a session; returns the id it is stored under (some stores choose it). */
  String create(String id, long now, Map<String, Object> attributes) throws Exception;

  /** Loads a session at the start of a request and marks it accessed; null when absent. */
  @Nullable S open(String id, long now) throws Exception;

  @Nullable Object get(S session, String name);

  void set(S session, String name, Object value);

  /** What the container does when the request ends: save whatever the store thinks is due. */
  void finish(S session, long now) throws Exception;

  /** Invalidates an opened session, deleting it from the store. */
  void invalidate(S session) throws Exception;

  @Override
  default void close() throws Exception {}
}
