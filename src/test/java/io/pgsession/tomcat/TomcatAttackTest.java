package io.pgsession.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.attack.OutageDataSource;
import io.pgsession.testing.PostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Requests that try to make Tomcat use a row it should not, with a root and a nested context. */
class TomcatAttackTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  static Tomcat tomcat;
  static OutageDataSource outage;
  static Browser.Target node;

  @BeforeAll
  static void start() throws IOException, LifecycleException {
    outage = OutageDataSource.wrap(pg.dataSource());
    Path base = Files.createTempDirectory("pgsession-tomcat-attack");
    tomcat = new Tomcat();
    tomcat.setBaseDir(base.toString());
    tomcat.getEngine().setName("attack");
    tomcat.getEngine().setJvmRoute("a");
    Connector connector = new Connector("HTTP/1.1");
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.setConnector(connector);
    addContext(base, "");
    addContext(base, "/shop");
    tomcat.start();
    node = path -> "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + path;
  }

  private static void addContext(Path base, String path) {
    Path docBase = base.resolve(path.isEmpty() ? "ROOT" : path.substring(1));
    try {
      Files.createDirectories(docBase);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Context ctx = tomcat.addContext(path, docBase.toString());
    PgSessionManager manager = new PgSessionManager();
    manager.setDataSource(outage.dataSource());
    manager.setConfig(PgSessionConfig.builder().allowPackages("io.pgsession.tomcat").build());
    ctx.setManager(manager);
    Tomcat.addServlet(ctx, "app", new TestApp.Servlet());
    ctx.addServletMappingDecoded("/", "app");
  }

  @AfterAll
  static void stop() throws LifecycleException {
    tomcat.stop();
    tomcat.destroy();
  }

  @Test
  void rootContextDoesNotServeAnotherContextsRowNamedByItsPrefixInTheCookie() {
    Browser shopper = new Browser();
    shopper.get(node, "/shop/set?name=role&value=shop-secret");
    String shopId = bare(shopper.cookie("JSESSIONID"));
    Browser attacker = new Browser();
    attacker.cookie("JSESSIONID", "/shop/" + shopId);

    String seenByRoot = attacker.get(node, "/get?name=role");

    assertThat(seenByRoot).isEqualTo("none");
  }

  @Test
  void rootContextDoesNotWriteIntoAnotherContextsRowEvenWithARouteSuffix() throws SQLException {
    Browser shopper = new Browser();
    shopper.get(node, "/shop/set?name=role&value=customer");
    String shopId = bare(shopper.cookie("JSESSIONID"));
    Browser attacker = new Browser();
    attacker.cookie("JSESSIONID", "/shop/" + shopId + ".a");

    attacker.get(node, "/set?name=role&value=admin");

    assertThat(shopper.get(node, "/shop/get?name=role")).isEqualTo("customer");
    assertThat(role("/shop/" + shopId)).isEqualTo("customer");
  }

  @Test
  void requestMeetingADownDatabaseFailsWithoutReplacingTheSessionCookie() {
    Browser browser = new Browser();
    browser.get(node, "/shop/set?name=cart&value=3-apples");
    String cookie = browser.cookie("JSESSIONID");

    outage.down(true);
    Browser.Answer duringOutage;
    try {
      duringOutage = browser.send(node, "/shop/incr", null);
    } finally {
      outage.down(false);
    }
    Browser.Answer after = afterRecovery(browser, "/shop/get?name=cart");

    assertThat(duringOutage.status()).isGreaterThanOrEqualTo(500);
    assertThat(browser.cookie("JSESSIONID")).isEqualTo(cookie);
    assertThat(after.status()).isEqualTo(200);
    assertThat(after.body()).isEqualTo("3-apples");
  }

  @Test
  void sessionWithIntervalZeroNeverExpiresAndAFiniteIntervalLaterTakesEffect() throws SQLException {
    Browser browser = new Browser();
    browser.get(node, "/shop/set?name=cart&value=kept");
    String sid = "/shop/" + bare(browser.cookie("JSESSIONID"));

    browser.get(node, "/shop/interval?seconds=0");
    String immortal = text("SELECT expire::text FROM session WHERE sid = ?", sid);
    manager("/shop").processExpires();
    String readBack = browser.get(node, "/shop/get?name=cart");
    browser.get(node, "/shop/interval?seconds=60");
    String finite = text("SELECT (expire < 'infinity')::text FROM session WHERE sid = ?", sid);

    assertThat(immortal).isEqualTo("infinity");
    assertThat(readBack).isEqualTo("kept");
    assertThat(finite).isEqualTo("true");
  }

  /** The first answer other than a 5xx within 10 s: pgsession refuses calls briefly after one. */
  private static Browser.Answer afterRecovery(Browser browser, String path) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Browser.Answer answer = browser.send(node, path, null);
    while (answer.status() >= 500 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      answer = browser.send(node, path, null);
    }
    return answer;
  }

  private static PgSessionManager manager(String path) {
    return (PgSessionManager) ((Context) tomcat.getHost().findChild(path)).getManager();
  }

  private static String text(String query, String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(query)) {
      ps.setString(1, sid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private static String bare(String id) {
    int dot = id.indexOf('.');
    return dot < 0 ? id : id.substring(0, dot);
  }

  private static String role(String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT sess->>'role' FROM session WHERE sid = ?")) {
      ps.setString(1, sid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }
}
