package io.pgsession.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/** Retries an action until it stops throwing or a deadline passes; for recovery after outages. */
public final class Eventually {
  private Eventually() {}

  /** The action's first result that is not an exception, within {@code limit}. */
  public static <T> T get(Supplier<T> action, Duration limit) {
    Instant deadline = Instant.now().plus(limit);
    while (true) {
      try {
        return action.get();
      } catch (RuntimeException e) {
        if (Instant.now().isAfter(deadline)) {
          throw e;
        }
        pause();
      }
    }
  }

  /** Runs the action until it stops throwing, within {@code limit}. */
  public static void run(Runnable action, Duration limit) {
    get(
        () -> {
          action.run();
          return null;
        },
        limit);
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for recovery", e);
    }
  }
}
