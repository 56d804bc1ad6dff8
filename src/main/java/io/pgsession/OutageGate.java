package io.pgsession;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Remembers that the database could not be reached, so that requests fail at once instead of each
 * waiting out the connection timeout while it is down. After a failure, calls are refused for
 * {@link #PAUSE_NANOS}; then one call at a time is let through to find out whether the database is
 * back, and its success opens the gate for all.
 */
final class OutageGate {
  static final long PAUSE_NANOS = 1_000_000_000L;

  private volatile long closedSince;
  private volatile boolean closed;
  private final AtomicBoolean probing = new AtomicBoolean();

  /**
   * Whether a call may go to the database now. A {@code true} answer while the gate is closed makes
   * the caller the probe; it must report its outcome with {@link #succeeded} or {@link #failed}.
   */
  boolean admit() {
    if (!closed) {
      return true;
    }
    if (System.nanoTime() - closedSince < PAUSE_NANOS) {
      return false;
    }
    return probing.compareAndSet(false, true);
  }

  void succeeded() {
    if (closed) {
      closed = false;
      probing.set(false);
    }
  }

  void failed() {
    closedSince = System.nanoTime();
    closed = true;
    probing.set(false);
  }

  /** Lets a call that ended for another reason than reachability release the probe. */
  void released() {
    probing.set(false);
  }
}
