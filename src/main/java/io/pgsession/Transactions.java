package io.pgsession;

import java.sql.Connection;
import java.sql.SQLException;

/** Runs work in one transaction on a connection, restoring its auto-commit mode afterwards. */
final class Transactions {
  private Transactions() {}

  /** The work, run in a transaction. */
  @FunctionalInterface
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /**
   * Commits when the work returns, rolls back when it throws. When the work fails because the
   * connection was cut, the rollback and the restoring of the mode fail too: the work's own error
   * is what is thrown, with theirs suppressed in it.
   */
  static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    T result;
    try {
      result = work.run(c);
      c.commit();
    } catch (Throwable e) {
      if (e instanceof SQLException || e instanceof RuntimeException) {
        try {
          c.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
      }
      restore(c, autoCommit, e);
      throw e;
    }
    c.setAutoCommit(autoCommit);
    return result;
  }

  /**
   * Sets the auto-commit mode back after {@code failure}; a failure to do so (on a connection that
   * was cut) is suppressed in it rather than thrown in its place.
   */
  static void restore(Connection c, boolean autoCommit, Throwable failure) {
    try {
      c.setAutoCommit(autoCommit);
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }
}
