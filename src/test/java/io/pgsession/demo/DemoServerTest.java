package io.pgsession.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.Eventually;
import io.pgsession.testing.PostgresExtension;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.session.DefaultSessionCache;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The demo's server wiring, started on a free port over the test database. */
class DemoServerTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private Server server;
  private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
  private final HttpClient client =
      HttpClient.newBuilder()
          .cookieHandler(cookies)
          .followRedirects(HttpClient.Redirect.NORMAL)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @BeforeEach
  void startDemo() throws Exception {
    server = DemoServer.start("127.0.0.1", 0, pg.dataSource(), "test");
  }

  /**
   * Jetty finishes a request, and evicts its session from the cache, after the client has the
   * response; stopping while an eviction is under way makes Jetty's cache shutdown fail. So the
   * demo is stopped once no session is left in the cache.
   */
  @AfterEach
  void stopDemo() throws Exception {
    DefaultSessionCache cache =
        (DefaultSessionCache)
            server.getDescendant(ServletContextHandler.class).getSessionHandler().getSessionCache();
    Eventually.run(
        () -> {
          if (cache.getSessionsCurrent() > 0) {
            throw new IllegalStateException("a request is still finishing with its session");
          }
        },
        Duration.ofSeconds(10));
    server.stop();
  }

  @Test
  void pagesCountVisitsAndTheSessionIsARowInPostgres() throws Exception {
    String first = get("/");
    String second = get("/");

    assertThat(first).contains("Visits: <b>1</b>");
    assertThat(second).contains("Visits: <b>2</b>").contains("java.lang.Long");
    assertThat(visitsInRow(sessionId())).isEqualTo("2");
  }

  @Test
  void loginChangesTheSessionIdAndStoresTheUserRecord() throws Exception {
    get("/");
    String before = sessionId();

    get("/?do=login&name=bob");
    String row = get("/row");

    assertThat(sessionId()).isNotEqualTo(before);
    assertThat(row).contains("bob").contains("io.pgsession.demo.DemoUser");
  }

  private String get(String path) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + DemoServer.port(server) + path);
    HttpResponse<String> response =
        client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }

  private String sessionId() {
    String cookie =
        cookies.getCookieStore().getCookies().stream()
            .filter(c -> c.getName().equals("JSESSIONID"))
            .findFirst()
            .orElseThrow()
            .getValue();
    // Jetty appends ".<worker name>" to the id in the cookie.
    int dot = cookie.indexOf('.');
    return dot < 0 ? cookie : cookie.substring(0, dot);
  }

  private String visitsInRow(String sid) throws Exception {
    // The last write happens as the response completes; poll briefly for it.
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    String visits = null;
    while (System.nanoTime() < deadline) {
      visits = readVisits(sid);
      if ("2".equals(visits)) {
        break;
      }
      LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
    }
    return visits;
  }

  private String readVisits(String sid) throws Exception {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT sess->'visits'->>'v' FROM session WHERE sid = ?")) {
      ps.setString(1, sid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }
}
