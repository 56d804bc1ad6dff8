package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.factory;
import static io.pgsession.jetty.JettyTestSupport.strings;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Requests that try to make Jetty use a row it should not, or lose one it should keep. */
class JettyAttackTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private JettyNode node;

  @AfterEach
  void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void rootContextDoesNotServeAnotherContextsRowNamedByItsPrefixInTheCookie() throws Exception {
    node = JettyNode.start("a", factory(pg), "/", "/shop");
    Browser shopper = new Browser();
    String shopId = shopper.get(node.uri("/shop", "op=set&name=role&value=shop-secret"));
    node.awaitIdle();

    String seenByRoot =
        Browser.getWithSessionId(node.uri("/", "op=get&name=role"), "/shop/" + shopId);

    assertThat(seenByRoot).isEqualTo("no session");
  }

  @Test
  void rootContextDoesNotWriteIntoAnotherContextsRow() throws Exception {
    node = JettyNode.start("a", factory(pg), "/", "/shop");
    Browser shopper = new Browser();
    String shopId = shopper.get(node.uri("/shop", "op=set&name=role&value=customer"));
    node.awaitIdle();

    Browser.getWithSessionId(node.uri("/", "op=set&name=role&value=admin"), "/shop/" + shopId);
    node.awaitIdle();

    assertThat(shopper.get(node.uri("/shop", "op=get&name=role")))
        .isEqualTo("java.lang.String:customer");
    assertThat(
            strings(
                pg.dataSource(),
                "SELECT sess->>'role' FROM session WHERE sid = ?",
                "/shop/" + shopId))
        .containsExactly("customer");
  }
}
