package io.pgsession;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes expired rows in the background, through {@link PgSessionStore#reap()}.
 *
 * <p>Each run is scheduled after the previous one ends, at the configured interval with ±20% jitter
 * so that nodes started together do not sweep together; runs never overlap. A failed run is logged
 * and the next one is scheduled all the same. The reaper runs on the scheduler it is given, or on
 * one named daemon thread of its own; {@link #close()} stops it and shuts down only a scheduler it
 * created.
 */
public final class SessionReaper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SessionReaper.class);

  private final PgSessionStore store;
  private final Duration interval;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private @Nullable ScheduledFuture<?> next;
  private boolean closed;

  private SessionReaper(
      PgSessionStore store, ScheduledExecutorService scheduler, boolean ownsScheduler) {
    this.store = store;
    this.interval = store.config().reaperInterval();
    this.scheduler = scheduler;
    this.ownsScheduler = ownsScheduler;
  }

  /**
   * Starts reaping on a daemon thread of its own. Returns a reaper that does nothing when the
   * configured interval is zero.
   */
  public static SessionReaper start(PgSessionStore store) {
    ScheduledExecutorService own =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "pgsession-reaper " + store.tableName());
              t.setDaemon(true);
              return t;
            });
    return start(store, own, true);
  }

  /** Starts reaping on the given scheduler, which the reaper will not shut down. */
  public static SessionReaper start(PgSessionStore store, ScheduledExecutorService scheduler) {
    return start(store, scheduler, false);
  }

  private static SessionReaper start(
      PgSessionStore store, ScheduledExecutorService scheduler, boolean owns) {
    SessionReaper reaper = new SessionReaper(store, scheduler, owns);
    if (!reaper.interval.isZero()) {
      reaper.scheduleNext();
    }
    return reaper;
  }

  private synchronized void scheduleNext() {
    if (closed) {
      return;
    }
    long millis = interval.toMillis();
    long jittered = millis + ThreadLocalRandom.current().nextLong(-millis / 5, millis / 5 + 1);
    next = scheduler.schedule(this::runOnce, Math.max(1, jittered), TimeUnit.MILLISECONDS);
  }

  private void runOnce() {
    try {
      long deleted = store.reap();
      if (deleted > 0) {
        log.debug("pgsession[{}] reaper deleted {} expired rows", store.tableName(), deleted);
      } else if (deleted < 0) {
        log.debug("pgsession[{}] another node is reaping; skipped", store.tableName());
      }
    } catch (Throwable t) {
      if (t instanceof VirtualMachineError) {
        throw (VirtualMachineError) t;
      }
      log.warn("pgsession[{}] reaper run failed; it will run again", store.tableName(), t);
    } finally {
      scheduleNext();
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (next != null) {
      next.cancel(false);
    }
    if (ownsScheduler) {
      scheduler.shutdownNow();
    }
  }
}
