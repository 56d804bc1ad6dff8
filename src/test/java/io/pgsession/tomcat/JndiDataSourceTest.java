package io.pgsession.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import javax.naming.Name;
import javax.naming.spi.ObjectFactory;
import javax.sql.DataSource;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.ContextResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The manager finds its DataSource by a JNDI name declared as a context resource. */
class JndiDataSourceTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private static volatile DataSource published;

  /** Hands the test's pool to Tomcat's naming, as a pool factory would build one. */
  public static final class TestDataSourceFactory implements ObjectFactory {
    @Override
    public Object getObjectInstance(
        Object obj, Name name, javax.naming.Context nameCtx, Hashtable<?, ?> environment) {
      return published;
    }
  }

  @Test
  void dataSourceNameIsLookedUpInTheWebApplicationsNamingContext() throws Exception {
    published = pg.dataSource();
    Path base = Files.createTempDirectory("pgsession-jndi");
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(base.toString());
    tomcat.getEngine().setName("jndi-" + System.nanoTime());
    tomcat.enableNaming();
    Connector connector = new Connector("HTTP/1.1");
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.setConnector(connector);
    File docBase = base.resolve("jndi").toFile();
    docBase.mkdirs();
    Context ctx = tomcat.addContext("/jndi", docBase.getAbsolutePath());
    ContextResource resource = new ContextResource();
    resource.setName("jdbc/sessions");
    resource.setType(DataSource.class.getName());
    resource.setProperty("factory", TestDataSourceFactory.class.getName());
    ctx.getNamingResources().addResource(resource);
    PgSessionManager manager = new PgSessionManager();
    manager.setDataSourceName("jdbc/sessions");
    manager.setAllowedPackages("io.pgsession.tomcat");
    ctx.setManager(manager);
    Tomcat.addServlet(ctx, "app", new TestApp.Servlet());
    ctx.addServletMappingDecoded("/", "app");
    Browser.Target target =
        path -> "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + path;
    try {
      tomcat.start();
      Browser browser = new Browser();

      browser.get(target, "/jndi/set?name=x&value=via-jndi");
      String stored;
      try (java.sql.Connection c = pg.dataSource().getConnection();
          java.sql.PreparedStatement ps =
              c.prepareStatement("SELECT sess->>'x' FROM session WHERE sid = ?")) {
        ps.setString(1, "/jndi/" + browser.cookie("JSESSIONID"));
        try (java.sql.ResultSet rs = ps.executeQuery()) {
          stored = rs.next() ? rs.getString(1) : null;
        }
      }

      assertThat(stored).isEqualTo("via-jndi");
    } finally {
      tomcat.stop();
      tomcat.destroy();
    }
  }
}
