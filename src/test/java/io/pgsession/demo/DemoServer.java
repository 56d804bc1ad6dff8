package io.pgsession.demo;

import io.pgsession.jetty.PgSessionDataStoreFactory;
import io.pgsession.jetty.PgSessions;
import java.util.Map;
import javax.sql.DataSource;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.session.DefaultSessionIdManager;

/**
 * The pgsession demo: a small servlet application on embedded Jetty whose sessions are rows in
 * PostgreSQL.
 *
 * <p>Run it with {@code mvn -q test-compile exec:java}. The port is the first argument ({@code
 * -Dexec.args=8081}) or {@code PORT}, 8080 by default; the address is {@code HOST}, 127.0.0.1 by
 * default. The database is the one named by {@code DSN} or the {@code POSTGRES_*} variables, or an
 * embedded PostgreSQL kept under {@code target/demo-postgres} (port {@code DEMO_PG_PORT}, 54329 by
 * default) that a second instance shares.
 */
public final class DemoServer {
  private DemoServer() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    int port = Integer.parseInt(args.length > 0 ? args[0] : env.getOrDefault("PORT", "8080"));
    String host = env.getOrDefault("HOST", "127.0.0.1");
    DemoDatabase database = DemoDatabase.open(env);
    Server server = start(host, port, database.dataSource(), "node" + port);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(server, database)));
    System.out.println();
    System.out.println("pgsession demo: open http://" + displayHost(host) + ":" + port + "/");
    System.out.println("sessions are stored in " + database.description());
    System.out.println("stop with Ctrl-C; sessions survive a restart");
    System.out.println();
    server.join();
  }

  /**
   * Starts the demo application on {@code host}:{@code port} ({@code 0} for any free port) with its
   * sessions in {@code dataSource}, which the caller keeps and closes.
   */
  public static Server start(String host, int port, DataSource dataSource, String node)
      throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);
    DefaultSessionIdManager ids = new DefaultSessionIdManager(server);
    ids.setWorkerName(node.replaceAll("[^A-Za-z0-9]", ""));
    server.addBean(ids, true);

    ServletContextHandler context = new ServletContextHandler("/", ServletContextHandler.SESSIONS);
    context.addServlet(new ServletHolder(new DemoServlet(dataSource, node)), "/*");
    context.getSessionHandler().setMaxInactiveInterval(30 * 60);
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setDataSource(dataSource);
    factory.setAllowedPackages(DemoServer.class.getPackageName());
    PgSessions.install(context.getSessionHandler(), factory);
    server.setHandler(context);
    server.start();
    return server;
  }

  /** The port the server listens on, useful when it was started on port 0. */
  public static int port(Server server) {
    return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
  }

  private static void stop(Server server, DemoDatabase database) {
    try {
      server.stop();
      database.close();
    } catch (Exception e) {
      System.err.println("pgsession demo: stopping failed: " + e);
    }
  }

  private static String displayHost(String host) {
    return host.equals("0.0.0.0") ? "localhost" : host;
  }
}
