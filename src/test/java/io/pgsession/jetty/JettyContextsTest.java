package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.factory;
import static io.pgsession.jetty.JettyTestSupport.strings;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two web applications on one server whose sessions share an id. */
class JettyContextsTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private JettyNode node;

  @BeforeEach
  void startNode() throws Exception {
    // Both contexts set their cookie on "/", so a browser sends one id to both, and Jetty reuses
    // the id of the first context's session for the second's.
    node = JettyNode.start("a", factory(pg), true, "/", "/shop");
  }

  @AfterEach
  void stopNode() throws Exception {
    node.close();
  }

  @Test
  void twoContextsSharingASessionIdKeepSeparateData() throws Exception {
    Browser browser = new Browser();
    String rootId = browser.get(node.uri("/", "op=set&name=who&value=root"));
    String shopId = browser.get(node.uri("/shop", "op=set&name=who&value=shop"));

    String inRoot = browser.get(node.uri("/", "op=get&name=who"));
    String inShop = browser.get(node.uri("/shop", "op=get&name=who"));

    assertThat(shopId).isEqualTo(rootId);
    assertThat(inRoot).isEqualTo("java.lang.String:root");
    assertThat(inShop).isEqualTo("java.lang.String:shop");
    assertThat(strings(pg.dataSource(), "SELECT sid FROM session ORDER BY sid"))
        .containsExactlyInAnyOrder(rootId, "/shop/" + rootId);
  }

  @Test
  void rowKeyPrefixIsEmptyForTheRootAndTheContextPathForOthers() {
    assertThat(node.store("/").sidPrefix()).isEmpty();
    assertThat(node.store("/shop").sidPrefix()).isEqualTo("/shop/");
  }

  @Test
  void eachRowNamesItsContextInTheDocument() throws Exception {
    Browser browser = new Browser();
    String id = browser.get(node.uri("/shop", "op=set&name=who&value=shop"));

    var context =
        strings(
            pg.dataSource(),
            "SELECT sess->'pgsession'->>'context' FROM session WHERE sid = ?",
            "/shop/" + id);

    assertThat(context).containsExactly("/shop");
  }
}
