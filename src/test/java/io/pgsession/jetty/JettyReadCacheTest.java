package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.factory;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two Jetty nodes with the read cache on: whatever one node kept of a session, a request on it sees
 * at once what the other node or plain SQL wrote, and its own in-place changes after read-only
 * requests are still written.
 */
class JettyReadCacheTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @RegisterExtension final JettyNodes nodes = new JettyNodes();

  private JettyNode node(String worker) throws Exception {
    PgSessionDataStoreFactory factory = factory(pg);
    factory.setReadCacheBytes(1 << 20);
    return nodes.start(worker, factory);
  }

  @Test
  void readOnlyRequestsBetweenChangesOnTwoNodesNeverHideAChange() throws Exception {
    JettyNode a = node("a");
    JettyNode b = node("b");
    Browser browser = new Browser();

    String id = get(browser, a, "op=append&value=x");
    get(browser, a, "op=read");
    get(browser, a, "op=read");
    get(browser, b, "op=append&value=y");
    String seenOnA = get(browser, a, "op=get&name=log");
    get(browser, a, "op=append&value=z");
    get(browser, a, "op=read");
    String seenOnB = get(browser, b, "op=get&name=log");
    JettyTestSupport.update(
        pg.dataSource(),
        "UPDATE session SET sess = jsonb_set(sess::jsonb, '{note}', '\"by sql\"')::json"
            + " WHERE sid = ?",
        id);
    String noteOnA = get(browser, a, "op=get&name=note");

    assertThat(seenOnA).isEqualTo("java.util.ArrayList:[x, y]");
    assertThat(seenOnB).isEqualTo("java.util.ArrayList:[x, y, z]");
    assertThat(noteOnA).isEqualTo("java.lang.String:by sql");
  }

  private static String get(Browser browser, JettyNode node, String query) throws Exception {
    String body = browser.get(node.uri(query));
    node.awaitIdle();
    return body;
  }
}
