package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.factory;
import static io.pgsession.jetty.JettyTestSupport.strings;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two or more real Jetty servers sharing one database, driven by real HTTP requests. */
class JettyClusterTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @RegisterExtension final JettyNodes nodes = new JettyNodes();

  private JettyNode node(String worker) throws Exception {
    return nodes.start(worker, factory(pg));
  }

  @Test
  void requestsAlternatingBetweenTwoNodesAlwaysSeeTheLatestState() throws Exception {
    JettyNode a = node("a");
    JettyNode b = node("b");
    Browser browser = new Browser();
    List<String> counts = new ArrayList<>();

    for (int i = 0; i < 10; i++) {
      counts.add(browser.get((i % 2 == 0 ? a : b).uri("op=incr")));
    }

    assertThat(counts).containsExactly("1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
    assertThat(browser.get(a.uri("op=get&name=visits"))).isEqualTo("java.lang.Long:10");
  }

  @Test
  void sessionSurvivesARestartOfTheServer() throws Exception {
    JettyNode first = node("a");
    Browser browser = new Browser();
    browser.get(first.uri("op=incr"));
    browser.get(first.uri("op=incr"));
    first.close();

    JettyNode restarted = node("a");
    String count = browser.get(restarted.uri("op=incr"));

    assertThat(count).isEqualTo("3");
  }

  @Test
  void typedAttributesComeBackEqualAndOfTheSameClassOnTheOtherNode() throws Exception {
    JettyNode a = node("a");
    JettyNode b = node("b");
    Browser browser = new Browser();
    browser.get(a.uri("op=types"));

    String checked = browser.get(b.uri("op=check-types"));

    assertThat(checked.lines())
        .containsExactly(
            "when=equal", "tags=equal", "item=equal", "big=equal", "bigClass=java.lang.Long");
  }

  @Test
  void changedSessionIdKeepsTheDataOnTheOtherNodeAndFreesTheOldId() throws Exception {
    JettyNode a = node("a");
    JettyNode b = node("b");
    Browser browser = new Browser();
    String oldId = browser.get(a.uri("op=set&name=user&value=ann"));

    String newId = browser.get(a.uri("op=change"));
    String seenOnB = browser.get(b.uri("op=get&name=user"));
    String oldIdOnB = Browser.getWithSessionId(b.uri("op=read"), oldId);

    assertThat(newId).isNotEqualTo(oldId);
    assertThat(seenOnB).isEqualTo("java.lang.String:ann");
    assertThat(oldIdOnB).isEqualTo("no session");
    assertThat(
            strings(pg.dataSource(), "SELECT sid FROM session WHERE sid IN (?, ?)", oldId, newId))
        .containsExactly(newId);
  }

  @Test
  void sessionInvalidatedOnOneNodeIsGoneOnTheOther() throws Exception {
    JettyNode a = node("a");
    JettyNode b = node("b");
    Browser browser = new Browser();
    String id = browser.get(a.uri("op=set&name=user&value=ann"));

    browser.get(b.uri("op=invalidate"));
    String onA = browser.get(a.uri("op=read"));

    assertThat(onA).isEqualTo("no session");
    assertThat(strings(pg.dataSource(), "SELECT sid FROM session WHERE sid = ?", id)).isEmpty();
  }
}
