package io.pgsession.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.session.DefaultSessionIdManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The adapter in Jetty's ee11 environment (Servlet 6.1), which shares ee10's session manager. */
class JettyEe11Test {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private final List<Server> servers = new ArrayList<>();

  @AfterEach
  void stopServers() throws Exception {
    for (Server server : servers) {
      server.stop();
    }
  }

  @Test
  void twoEe11ServersShareOneSessionWithItsLongCounter() throws Exception {
    PgSessionDataStoreFactory factory = JettyTestSupport.factory(pg);
    URI a = start("a", factory);
    URI b = start("b", factory);
    Browser browser = new Browser();

    List<String> pages = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      pages.add(browser.get(i % 2 == 0 ? a : b));
    }

    assertThat(pages)
        .containsExactly(
            "java.lang.Long 1 from a",
            "java.lang.Long 2 from b",
            "java.lang.Long 3 from a",
            "java.lang.Long 4 from b");
  }

  private URI start(String worker, PgSessionDataStoreFactory factory) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    DefaultSessionIdManager ids = new DefaultSessionIdManager(server);
    ids.setWorkerName(worker);
    server.addBean(ids, true);
    ServletContextHandler context = new ServletContextHandler("/", true, false);
    PgSessions.install(context.getSessionHandler(), factory);
    context.addServlet(new ServletHolder(new Counter(worker)), "/");
    server.setHandler(context);
    server.start();
    servers.add(server);
    return URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/");
  }

  /** Counts visits in a {@code Long} attribute and names its class and the node. */
  private static final class Counter extends HttpServlet {
    private final String node;

    Counter(String node) {
      this.node = node;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      Object stored = request.getSession().getAttribute("visits");
      long visits = stored == null ? 1 : (Long) stored + 1;
      request.getSession().setAttribute("visits", visits);
      response.setContentType("text/plain");
      response.getWriter().print(request.getSession().getAttribute("visits").getClass().getName());
      response.getWriter().print(" " + visits + " from " + node);
    }
  }
}
