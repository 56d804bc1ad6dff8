package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * Cuts the connection of work in the middle of a statement, as an administrator ending its backend
 * or a server shutting down would, and returns what the work threw.
 */
final class CutConnection {
  private CutConnection() {}

  /**
   * Runs {@code work} while another connection holds {@code table} in SHARE mode, so that the
   * work's statement starting with {@code statementStart} waits for its lock; then terminates that
   * statement's backend.
   */
  static Throwable whileWaiting(
      DataSource admin, String table, String statementStart, ThrowingCallable work)
      throws Exception {
    try (Connection holder = admin.getConnection()) {
      holder.setAutoCommit(false);
      try (Statement s = holder.createStatement()) {
        s.execute("LOCK TABLE " + table + " IN SHARE MODE");
      }
      CompletableFuture<Throwable> running =
          CompletableFuture.supplyAsync(() -> catchThrowable(work));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (terminateWaiting(admin, statementStart) == 0) {
        assertThat(System.nanoTime()).as("the statement waits for the lock").isLessThan(deadline);
        Thread.sleep(20);
      }
      holder.rollback();
      return running.get(20, TimeUnit.SECONDS);
    }
  }

  private static int terminateWaiting(DataSource admin, String statementStart) {
    return Sql.rows(
            admin,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                + " AND wait_event_type = 'Lock' AND query LIKE ?",
            statementStart + "%")
        .size();
  }
}
