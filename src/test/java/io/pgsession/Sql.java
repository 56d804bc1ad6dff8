package io.pgsession;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/** Plain JDBC for tests that arrange or inspect the table behind the store's back. */
final class Sql {
  private Sql() {}

  /** Runs one statement with positional parameters; returns the update count. */
  static int update(DataSource ds, String sql, Object... params) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = prepare(c, sql, params)) {
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  /** The rows of a query, each as the text of its columns. */
  static List<List<String>> rows(DataSource ds, String sql, Object... params) {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = prepare(c, sql, params);
        ResultSet rs = ps.executeQuery()) {
      List<List<String>> rows = new ArrayList<>();
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          row.add(rs.getString(i));
        }
        rows.add(row);
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  /** The first column of the first row, or {@code null} when there is no row. */
  static @Nullable String text(DataSource ds, String sql, Object... params) {
    List<List<String>> rows = rows(ds, sql, params);
    return rows.isEmpty() ? null : rows.get(0).get(0);
  }

  static long number(DataSource ds, String sql, Object... params) {
    return Long.parseLong(text(ds, sql, params));
  }

  /** A session's {@code expire} in the default table, as epoch milliseconds in UTC. */
  static long storedExpiryMillis(DataSource ds, String sid) {
    return number(
        ds,
        "SELECT (extract(epoch FROM expire AT TIME ZONE 'UTC') * 1000)::bigint FROM session"
            + " WHERE sid = ?",
        sid);
  }

  private static PreparedStatement prepare(Connection c, String sql, Object... params)
      throws SQLException {
    PreparedStatement ps = c.prepareStatement(sql);
    for (int i = 0; i < params.length; i++) {
      ps.setObject(i + 1, params[i]);
    }
    return ps;
  }
}
