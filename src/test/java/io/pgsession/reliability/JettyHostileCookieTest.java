package io.pgsession.reliability;

import io.pgsession.jetty.PgSessionDataStoreFactory;
import io.pgsession.jetty.PgSessions;
import io.pgsession.jetty.testapp.SessionServlet;
import io.pgsession.testing.PostgresExtension;
import javax.sql.DataSource;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Forged session cookies through Jetty 12 with pgsession. */
class JettyHostileCookieTest extends HostileCookieContract {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();
  private Server server;

  @Override
  int start(DataSource dataSource) throws Exception {
    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler("/", ServletContextHandler.SESSIONS);
    context.addServlet(SessionServlet.class, "/*");
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setDataSource(dataSource);
    PgSessions.install(context.getSessionHandler(), factory);
    server.setHandler(context);
    server.start();
    return connector.getLocalPort();
  }

  @Override
  void stop() throws Exception {
    server.stop();
  }

  @Override
  DataSource dataSource() {
    return pg.dataSource();
  }
}
