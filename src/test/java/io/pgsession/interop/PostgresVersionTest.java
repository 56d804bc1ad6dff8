package io.pgsession.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedded server is the PostgreSQL major version the build asked for, so that a run with
 * {@code -Ppg14} or {@code -Ppg18} really tests that version.
 */
class PostgresVersionTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  @Test
  void embeddedServerIsTheMajorVersionOfTheSelectedBinaries() throws SQLException {
    String binaries = System.getProperty("postgres.binaries.version", "");
    Assumptions.assumeTrue(
        pg.server().kind().equals("embedded") && !binaries.isEmpty(),
        "the tests use an external or Docker PostgreSQL, or the build did not say which binaries");

    int serverMajor = serverVersionNum() / 10000;

    assertThat(serverMajor)
        .isEqualTo(Integer.parseInt(binaries.substring(0, binaries.indexOf('.'))));
  }

  private static int serverVersionNum() throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW server_version_num")) {
      rs.next();
      return Integer.parseInt(rs.getString(1));
    }
  }
}
