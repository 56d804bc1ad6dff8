package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.factory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsession.attack.OutageDataSource;
import io.pgsession.testing.Eventually;
import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A web application started while PostgreSQL is down starts, and its sessions work once it is up;
 * one whose table the database refuses does not start.
 */
class JettyStartsWhileDatabaseDownTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @Test
  void applicationStartsWithTheDatabaseDownAndStoresSessionsOnceItIsBack() throws Exception {
    OutageDataSource db = OutageDataSource.wrap(pg.newDataSource());
    db.down(true);

    try (JettyNode node = JettyNode.start("a", factory(db.dataSource()))) {
      db.down(false);
      Browser browser = new Browser();
      String first = Eventually.get(() -> request(browser, node), Duration.ofSeconds(15));
      String second = request(browser, node);

      assertThat(Long.parseLong(second)).isEqualTo(Long.parseLong(first) + 1);
      assertThat(storedRows()).isEqualTo(1);
    }
  }

  @Test
  void aTableTheDatabaseRefusesStopsTheStartInsteadOfServingUnstoredSessions() throws Exception {
    JettyTestSupport.update(
        pg.dataSource(),
        "CREATE TABLE keyless (sid varchar NOT NULL, sess json NOT NULL,"
            + " expire timestamp(6) NOT NULL)");
    PgSessionDataStoreFactory factory = factory(pg.dataSource());
    factory.setTable("keyless");

    assertThatThrownBy(() -> JettyNode.start("a", factory).close())
        .hasStackTraceContaining("\"keyless\" has no primary key on sid")
        .hasStackTraceContaining("ALTER TABLE \"keyless\" ADD PRIMARY KEY (sid)");
  }

  private static String request(Browser browser, JettyNode node) {
    try {
      return browser.get(node.uri("op=incr"));
    } catch (AssertionError e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  private static long storedRows() throws Exception {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM session")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
