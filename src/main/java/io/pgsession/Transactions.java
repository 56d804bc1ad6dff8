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

  /** Commits when the work returns, rolls back when it throws. */
  static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      T result = work.run(c);
      c.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }
}
