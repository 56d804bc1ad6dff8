package io.pgsession.reliability;

import io.pgsession.testing.PostgresExtension;
import io.pgsession.tomcat.PgSessionManager;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Forged session cookies through Tomcat with pgsession. */
class TomcatHostileCookieTest extends HostileCookieContract {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();
  private Tomcat tomcat;

  @Override
  int start(DataSource dataSource) throws Exception {
    Path base = Files.createDirectories(Path.of("target", "tomcat-hostile-cookie"));
    tomcat = new Tomcat();
    tomcat.setBaseDir(base.toAbsolutePath().toString());
    Connector connector = new Connector("HTTP/1.1");
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.setConnector(connector);
    Context context = tomcat.addContext("", base.toAbsolutePath().toString());
    PgSessionManager manager = new PgSessionManager();
    manager.setDataSource(dataSource);
    context.setManager(manager);
    Tomcat.addServlet(context, "visits", new VisitsServlet());
    context.addServletMappingDecoded("/", "visits");
    tomcat.start();
    return tomcat.getConnector().getLocalPort();
  }

  @Override
  void stop() throws Exception {
    tomcat.stop();
    tomcat.destroy();
  }

  @Override
  DataSource dataSource() {
    return pg.dataSource();
  }

  /** {@code ?op=read}: "no session" or the id; {@code ?op=incr}: the session's visit count. */
  static final class VisitsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      String body;
      if ("incr".equals(req.getParameter("op"))) {
        HttpSession session = req.getSession(true);
        Long visits = (Long) session.getAttribute("visits");
        long next = visits == null ? 1 : visits + 1;
        session.setAttribute("visits", next);
        body = String.valueOf(next);
      } else {
        HttpSession session = req.getSession(false);
        body = session == null ? "no session" : session.getId();
      }
      resp.setContentType("text/plain;charset=utf-8");
      resp.getWriter().print(body);
    }
  }
}
