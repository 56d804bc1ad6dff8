package io.pgsession.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.testing.PostgresExtension;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tomcat's parallel deployment: versions {@code app##001} and {@code app##002} of {@code /app},
 * each with its own {@link PgSessionManager} on one table.
 *
 * <p>Both versions have the same row-key prefix ({@code /app/}), so they share their sessions: when
 * a request carries a session id, Tomcat's mapper asks the versions from the newest down whether
 * they know it, and the newest one finds it in the table. A session begun on the old version
 * therefore moves to the new version with its data as soon as that is deployed, instead of staying
 * on the old version as with Tomcat's in-memory manager.
 */
class ParallelDeploymentTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private static final String TABLE = "parallel_deployment";

  @Test
  void afterARestartWithANewVersionNewSessionsAndOldSessionsAreServedByItWithTheirData()
      throws Exception {
    Browser early = new Browser();
    String beforeUpgrade;
    try (Server v1 = new Server("001")) {
      beforeUpgrade = early.get(v1, "/app/visit") + ", " + early.get(v1, "/app/visit");
    }

    String earlyAfterUpgrade;
    String newcomer;
    try (Server both = new Server("001", "002")) {
      earlyAfterUpgrade = early.get(both, "/app/visit");
      newcomer = new Browser().get(both, "/app/visit");
    }

    assertThat(beforeUpgrade).isEqualTo("001 1, 001 2");
    assertThat(earlyAfterUpgrade).isEqualTo("002 3");
    assertThat(newcomer).isEqualTo("002 1");
  }

  @Test
  void versionDeployedWhileRunningServesNewSessionsAndTakesOverOldOnesWithTheirData()
      throws Exception {
    Browser early = new Browser();
    Browser late = new Browser();
    String beforeDeploy;
    String earlyAfterDeploy;
    String newcomer;

    try (Server server = new Server("001")) {
      beforeDeploy = early.get(server, "/app/visit");
      server.deploy("002");
      earlyAfterDeploy = early.get(server, "/app/visit");
      newcomer = late.get(server, "/app/visit");
    }

    assertThat(beforeDeploy).isEqualTo("001 1");
    assertThat(earlyAfterDeploy).isEqualTo("002 2");
    assertThat(newcomer).isEqualTo("002 1");
  }

  @Test
  void activeSessionsOfEachVersionDoNotCountTheSharedTable() throws Exception {
    long rowsBefore = rows();
    Map<String, Integer> active;

    try (Server server = new Server("001", "002")) {
      for (int i = 0; i < 3; i++) {
        new Browser().get(server, "/app/visit");
      }
      active = server.activeSessions();
    }

    assertThat(rows() - rowsBefore).isEqualTo(3);
    assertThat(active).containsExactly(Map.entry("001", 0), Map.entry("002", 0));
  }

  private static long rows() throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + TABLE);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Answers the version that served the request and the session's visit count. */
  static final class VersionServlet extends HttpServlet {
    private final String version;

    VersionServlet(String version) {
      this.version = version;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      HttpSession session = req.getSession();
      Long n = (Long) session.getAttribute("n");
      long next = n == null ? 1 : n + 1;
      session.setAttribute("n", next);
      resp.setContentType("text/plain");
      resp.getWriter().print(version + " " + next);
    }
  }

  /**
   * One embedded Tomcat on 127.0.0.1 with the given versions of {@code /app} added before it
   * starts; {@link #deploy} adds more while it runs.
   */
  private static final class Server implements AutoCloseable, Browser.Target {
    private final Tomcat tomcat = new Tomcat();
    private final Map<String, PgSessionManager> managers = new LinkedHashMap<>();
    private final Path base;

    Server(String... versions) throws IOException, LifecycleException {
      base = Files.createTempDirectory("pgsession-parallel");
      tomcat.setBaseDir(base.toString());
      Connector connector = new Connector("HTTP/1.1");
      connector.setPort(0);
      connector.setProperty("address", "127.0.0.1");
      tomcat.setConnector(connector);
      for (String version : versions) {
        deploy(version);
      }
      tomcat.start();
    }

    /**
     * Deploys a version as Tomcat's deployer does: configured completely, then added to the host,
     * which starts it when the host runs.
     */
    void deploy(String version) throws IOException {
      Path docBase = Files.createDirectories(base.resolve("app##" + version));
      StandardContext ctx = new StandardContext();
      ctx.setName("/app##" + version);
      ctx.setPath("/app");
      ctx.setWebappVersion(version);
      ctx.setDocBase(docBase.toString());
      ctx.addLifecycleListener(new Tomcat.FixContextListener());
      PgSessionManager manager = new PgSessionManager();
      manager.setDataSource(pg.dataSource());
      manager.setConfig(PgSessionConfig.builder().table(TABLE).build());
      ctx.setManager(manager);
      Tomcat.addServlet(ctx, "version", new VersionServlet(version));
      ctx.addServletMappingDecoded("/", "version");
      managers.put(version, manager);
      tomcat.getHost().addChild(ctx);
    }

    Map<String, Integer> activeSessions() {
      Map<String, Integer> active = new LinkedHashMap<>();
      managers.forEach((version, manager) -> active.put(version, manager.getActiveSessions()));
      return active;
    }

    @Override
    public String url(String path) {
      return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + path;
    }

    @Override
    public void close() throws LifecycleException {
      tomcat.stop();
      tomcat.destroy();
    }
  }
}
