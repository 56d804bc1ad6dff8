package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.factory;
import static io.pgsession.jetty.JettyTestSupport.strings;
import static io.pgsession.jetty.JettyTestSupport.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.CountingDataSource;
import io.pgsession.testing.PostgresExtension;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The SQL each kind of request costs, counted on the data source the store uses. */
class JettyStatementCountTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private CountingDataSource counting;
  private JettyNode node;
  private Browser browser;
  private String id;

  @BeforeEach
  void startWithASession() throws Exception {
    counting = CountingDataSource.wrap(pg.dataSource());
    node = JettyNode.start("a", factory(counting.dataSource()));
    browser = new Browser();
    id = browser.get(node.uri("op=set&name=user&value=ann"));
    node.awaitIdle();
    counting.reset();
  }

  @AfterEach
  void stopNode() throws Exception {
    node.close();
  }

  @Test
  void requestThatCreatesASessionWritesItWithOnePlainInsert() {
    Browser newcomer = new Browser();
    String created = newcomer.get(node.uri("op=set&name=user&value=bob"));
    node.awaitIdle();

    List<String> writes = counting.writes();
    assertThat(created).isNotEqualTo(id);
    assertThat(writes).hasSize(1);
    assertThat(writes.get(0)).startsWith("INSERT").doesNotContain("ON CONFLICT");
    assertThat(newcomer.get(node.uri("op=get&name=user"))).isEqualTo("java.lang.String:bob");
  }

  @Test
  void readOnlyRequestInsideTheTouchWindowCostsOneStatement() {
    String body = browser.get(node.uri("op=read"));
    node.awaitIdle();

    assertThat(body).isEqualTo(id + " user=ann");
    assertThat(counting.statements()).hasSize(1);
    assertThat(counting.statements().get(0)).startsWith("SELECT ").endsWith("WHERE sid = ?");
  }

  @Test
  void readOnlyRequestAfterTheTouchWindowWritesOnlyExpire() throws Exception {
    String before = expire();
    // 30 minutes interval, touchFraction 0.1: three minutes must pass before a touch.
    update(
        pg.dataSource(),
        "UPDATE session SET expire = expire - interval '5 minutes' WHERE sid = ?",
        id);
    counting.reset();

    browser.get(node.uri("op=read"));
    node.awaitIdle();

    List<String> sql = counting.statements();
    assertThat(sql).hasSize(2);
    assertThat(sql.get(1)).contains("SET expire = greatest");
    assertThat(expire()).isGreaterThanOrEqualTo(before);
  }

  @Test
  void requestThatSetsAnAttributeCostsTheLoadAndOneUpdateOfTheDocumentAlone() {
    browser.get(node.uri("op=set&name=user&value=bob"));
    node.awaitIdle();

    List<String> sql = counting.statements();
    assertThat(sql).hasSize(2);
    assertThat(sql.get(0)).startsWith("SELECT ").endsWith("WHERE sid = ?");
    // Inside the touch window, with the interval unchanged: expire stays, so the update is HOT.
    assertThat(sql.get(1)).startsWith("UPDATE").contains("SET sess").doesNotContain("expire");
  }

  @Test
  void changingTheSessionIdMovesTheRowInOneStatement() {
    String newId = browser.get(node.uri("op=change"));
    node.awaitIdle();

    List<String> writes = counting.writes();
    assertThat(newId).isNotEqualTo(id);
    assertThat(writes).hasSize(1);
    assertThat(writes.get(0)).startsWith("UPDATE").contains("SET sid");
    assertThat(browser.get(node.uri("op=get&name=user"))).isEqualTo("java.lang.String:ann");
  }

  private String expire() throws Exception {
    return strings(pg.dataSource(), "SELECT expire::text FROM session WHERE sid = ?", id).get(0);
  }
}
