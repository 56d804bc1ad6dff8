package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.expireLongAgo;
import static io.pgsession.jetty.JettyTestSupport.factory;
import static io.pgsession.jetty.JettyTestSupport.strings;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Expiry with listeners. Time is moved by moving {@code expire} into the past with SQL, and the
 * scavenger that Jetty's HouseKeeper runs every few minutes is run directly.
 */
class JettyExpiryTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @RegisterExtension final JettyNodes nodes = new JettyNodes();

  private JettyNode node(String worker) throws Exception {
    return nodes.start(worker, factory(pg));
  }

  @Test
  void expiredSessionOfAStoppedNodeIsDestroyedExactlyOnceBySurvivingNodes() throws Exception {
    JettyNode creator = node("a");
    JettyNode b = node("b");
    JettyNode c = node("c");
    Browser browser = new Browser();
    String id = browser.get(creator.uri("op=set&name=user&value=ann"));
    creator.close();
    expireLongAgo(pg.dataSource(), id);

    b.scavenge();
    c.scavenge();

    List<String> destroyed = new ArrayList<>(b.destroyed);
    destroyed.addAll(c.destroyed);
    assertThat(destroyed).containsExactly("/ " + id);
    assertThat(creator.destroyed).isEmpty();
    assertThat(strings(pg.dataSource(), "SELECT sid FROM session WHERE sid = ?", id)).isEmpty();
  }

  @Test
  void sessionThatIsNotExpiredSurvivesTheScavenger() throws Exception {
    JettyNode a = node("a");
    Browser browser = new Browser();
    browser.get(a.uri("op=set&name=user&value=ann"));

    a.scavenge();
    String after = browser.get(a.uri("op=get&name=user"));

    assertThat(a.destroyed).isEmpty();
    assertThat(after).isEqualTo("java.lang.String:ann");
  }

  @Test
  void expiredSessionMetByARequestIsDestroyedAndNotServed() throws Exception {
    JettyNode a = node("a");
    Browser browser = new Browser();
    String id = browser.get(a.uri("op=set&name=user&value=ann"));
    expireLongAgo(pg.dataSource(), id);

    String seen = browser.get(a.uri("op=get&name=user"));

    assertThat(seen).isEqualTo("no session");
    assertThat(a.destroyed).containsExactly("/ " + id);
    assertThat(strings(pg.dataSource(), "SELECT sid FROM session WHERE sid = ?", id)).isEmpty();
  }
}
