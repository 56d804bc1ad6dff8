package io.pgsession.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.distribution.Visitor;
import io.pgsession.distribution.app.CounterServlet;
import io.pgsession.interop.NodeApp.NodeSession;
import io.pgsession.jetty.PgSessionDataStoreFactory;
import io.pgsession.jetty.PgSessions;
import io.pgsession.testing.PostgresExtension;
import java.net.URI;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Jetty web application at {@code /shop} (with {@code sidPrefix} empty, so its rows are keyed by
 * the bare session id) and the Express application share one user's session in both directions.
 */
class ExpressAndJettyShareASessionTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static NodeApp node;
  private static Server jetty;
  private static URI shop;

  @BeforeEach
  void nodeIsInstalled() {
    NodeApp.assumeNodeAvailable();
  }

  @BeforeAll
  static void startBoth() throws Exception {
    if (!NodeApp.nodeAvailable()) {
      return;
    }
    NodeApp.installDependencies();
    node = NodeApp.start(pg.jdbcUrl(), pg.server().user(), pg.server().password(), "Asia/Tokyo");
    jetty = new Server();
    ServerConnector connector = new ServerConnector(jetty);
    connector.setHost("127.0.0.1");
    jetty.addConnector(connector);
    ServletContextHandler context =
        new ServletContextHandler("/shop", ServletContextHandler.SESSIONS);
    context.addServlet(CounterServlet.class, "/*");
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setDataSource(pg.dataSource());
    factory.setSidPrefix("");
    PgSessions.install(context.getSessionHandler(), factory);
    jetty.setHandler(context);
    jetty.start();
    shop = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/shop/");
  }

  @AfterAll
  static void stopBoth() throws Exception {
    if (jetty != null) {
      jetty.stop();
    }
    if (node != null) {
      node.close();
    }
  }

  @Test
  void nodeReadsAndChangesASessionJettyCreated() {
    Visitor browser = new Visitor();
    browser.visit(shop);

    NodeSession seenByNode = node.find(browser.sessionId());
    node.update(browser.sessionId(), Map.of("visits", 10, "fromNode", "hi"));
    int visits = browser.visit(shop.resolve("?show=fromNode"));

    assertThat(seenByNode).isNotNull();
    assertThat(seenByNode.attributes().get("visits").asInt()).isEqualTo(1);
    assertThat(visits).isEqualTo(11);
    assertThat(browser.lastAnswer()).endsWith("fromNode=java.lang.String:hi");
  }

  @Test
  void jettyServesASessionNodeCreated() {
    NodeSession created = node.create(Map.of("visits", 41, "fromNode", "hello"), 3_600_000L);
    Visitor browser = new Visitor().cookie(created.sid());

    int visits = browser.visit(shop.resolve("?show=fromNode"));
    NodeSession afterJetty = node.find(created.sid());

    assertThat(browser.sessionId()).isEqualTo(created.sid());
    assertThat(visits).isEqualTo(42);
    assertThat(browser.lastAnswer()).endsWith("fromNode=java.lang.String:hello");
    assertThat(afterJetty).isNotNull();
    assertThat(afterJetty.attributes().get("visits").asInt()).isEqualTo(42);
  }
}
