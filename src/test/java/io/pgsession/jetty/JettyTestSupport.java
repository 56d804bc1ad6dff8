package io.pgsession.jetty;

import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** Factories and SQL helpers shared by the Jetty tests. */
final class JettyTestSupport {
  static final String APP_PACKAGE = "io.pgsession.jetty.testapp";

  private JettyTestSupport() {}

  /** A factory over the test database, as one node of a cluster would configure it. */
  static PgSessionDataStoreFactory factory(DataSource dataSource) {
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setDataSource(dataSource);
    factory.setAllowedPackages(APP_PACKAGE);
    return factory;
  }

  static PgSessionDataStoreFactory factory(PostgresExtension pg) {
    return factory(pg.dataSource());
  }

  static int update(DataSource ds, String sql, String... params) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setString(i + 1, params[i]);
      }
      return ps.executeUpdate();
    }
  }

  static List<String> strings(DataSource ds, String sql, String... params) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setString(i + 1, params[i]);
      }
      List<String> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return out;
    }
  }

  /** Moves a session's expiry into the past, as if its interval had run out long ago. */
  static void expireLongAgo(DataSource ds, String sid) throws SQLException {
    int rows =
        update(ds, "UPDATE session SET expire = expire - interval '2 hours' WHERE sid = ?", sid);
    if (rows != 1) {
      throw new AssertionError("no row for " + sid);
    }
  }
}
