package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.PostgresExtension;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An application's own pool may hand out connections with auto-commit off (a usual setting beside
 * JPA). pgsession's writes on it are still committed, each as it is made, so that other nodes see
 * them and the pool's rollback on return takes none of them back. What is checked is read through
 * another pool, as another node would.
 */
class AutoCommitOffDataSourceTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static HikariDataSource manual;
  private static PgSessionStore store;

  @BeforeAll
  static void createStore() {
    PgDataSources.Settings settings = pg.server().settings(pg.jdbcUrl());
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(settings.jdbcUrl());
    config.setUsername(settings.user());
    config.setPassword(settings.password());
    config.setAutoCommit(false);
    config.setMaximumPoolSize(2);
    manual = new HikariDataSource(config);
    store =
        new PgSessionStore(
            manual,
            PgSessionConfig.builder().createTable(true).build(),
            AutoCommitOffDataSourceTest.class.getClassLoader());
  }

  @AfterAll
  static void closePool() {
    manual.close();
  }

  @Test
  void everyWriteIsCommitted() {
    SessionRecord record = SessionRecord.newSession("manual-1", System.currentTimeMillis(), 1800);
    record.attributes().put("step", "created");
    assertThat(store.save(record)).isEqualTo(SaveOutcome.INSERTED);
    assertThat(storedStep("manual-1")).containsExactly("created");

    record.attributes().put("step", "changed");
    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(storedStep("manual-1")).containsExactly("changed");

    assertThat(store.changeId("manual-1", "manual-1b")).isTrue();
    assertThat(storedStep("manual-1b")).containsExactly("changed");

    assertThat(store.delete("manual-1b")).isTrue();
    assertThat(storedStep("manual-1b")).isEmpty();
  }

  @Test
  void aNewSessionWhoseIdHasARowOverwritesItInsideNoTransactionOfItsOwn() {
    SessionRecord first = new SessionRecord("manual-2", System.currentTimeMillis(), 1800);
    first.attributes().put("step", "first");
    store.save(first);
    SessionRecord again = SessionRecord.newSession("manual-2", System.currentTimeMillis(), 1800);
    again.attributes().put("step", "again");

    assertThat(store.save(again)).isEqualTo(SaveOutcome.INSERTED);

    assertThat(storedStep("manual-2")).containsExactly("again");
  }

  @Test
  void aSaveWhoseConnectionIsCutReportsTheServersReasonAsOnAnAutoCommitPool() throws Exception {
    SessionRecord record = SessionRecord.newSession("manual-3", System.currentTimeMillis(), 1800);
    record.attributes().put("step", "created");

    store.ensureTable();
    Throwable failure =
        CutConnection.whileWaiting(pg.dataSource(), "session", "INSERT", () -> store.save(record));

    // A server restart or an administrator ending the backend: the database's own reason, and
    // the advice that the request can be retried, as the same cut gives on an auto-commit pool.
    assertThat(failure)
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("pgsession save of session")
        .hasMessageContaining("cannot reach the database")
        .hasMessageContaining("terminating connection due to administrator command")
        .hasMessageContaining("the request can be retried");
    assertThat(((PgSessionException) failure).sqlState()).isEqualTo("57P01");
  }

  private static List<String> storedStep(String sid) {
    return Sql.rows(pg.dataSource(), "SELECT sess->>'step' FROM session WHERE sid = ?", sid)
        .stream()
        .map(row -> row.get(0))
        .toList();
  }
}
