package io.pgsession.tomcat;

import io.pgsession.PgSessionConfig;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Valve;
import org.apache.catalina.authenticator.BasicAuthenticator;
import org.apache.catalina.authenticator.FormAuthenticator;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.LoginConfig;
import org.apache.tomcat.util.descriptor.web.SecurityCollection;
import org.apache.tomcat.util.descriptor.web.SecurityConstraint;

/**
 * One embedded Tomcat on 127.0.0.1 with an OS-chosen port, serving {@link TestApp} under {@code
 * /app} (FORM login for {@code /secure/*}) and {@code /basic} (BASIC login), each with its own
 * {@link PgSessionManager} on the given data source.
 */
final class TestNode implements AutoCloseable, Browser.Target {
  private static final AtomicInteger NODES = new AtomicInteger();

  final String route;
  final TestApp.Events events = new TestApp.Events();
  final TestApp.Events basicEvents = new TestApp.Events();
  final PgSessionManager manager = new PgSessionManager();
  final PgSessionManager basicManager = new PgSessionManager();
  private final Tomcat tomcat = new Tomcat();
  private final Path base;

  TestNode(String route, DataSource dataSource) {
    this.route = route;
    try {
      this.base = Files.createTempDirectory("pgsession-tomcat-" + route);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    tomcat.setBaseDir(base.toString());
    tomcat.getEngine().setName("node-" + route + "-" + NODES.incrementAndGet());
    tomcat.getEngine().setJvmRoute(route);
    Connector connector = new Connector("HTTP/1.1");
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.setConnector(connector);
    PgSessionConfig config = PgSessionConfig.builder().allowPackages("io.pgsession.tomcat").build();
    for (PgSessionManager m : new PgSessionManager[] {manager, basicManager}) {
      m.setDataSource(dataSource);
      m.setConfig(config);
    }
    addContext("/app", "FORM", manager, events, new FormAuthenticator());
    addContext("/basic", "BASIC", basicManager, basicEvents, new BasicAuthenticator());
  }

  private void addContext(
      String path, String auth, PgSessionManager m, TestApp.Events listener, Valve authenticator) {
    File docBase = base.resolve(path.substring(1)).toFile();
    docBase.mkdirs();
    Context ctx = tomcat.addContext(path, docBase.getAbsolutePath());
    ctx.setManager(m);
    ctx.setRealm(new TestApp.OneUserRealm());
    ctx.setLoginConfig(new LoginConfig(auth, "test", "/login", "/error"));
    ctx.addSecurityRole("user");
    SecurityConstraint constraint = new SecurityConstraint();
    constraint.addAuthRole("user");
    SecurityCollection secured = new SecurityCollection();
    secured.addPatternDecoded("/secure/*");
    constraint.addCollection(secured);
    ctx.addConstraint(constraint);
    // What ContextConfig does for a deployed application: the authenticator joins at configure.
    ctx.addLifecycleListener(
        event -> {
          if (Lifecycle.CONFIGURE_START_EVENT.equals(event.getType())) {
            ctx.getPipeline().addValve(authenticator);
          }
        });
    ctx.addServletContainerInitializer((classes, sc) -> sc.addListener(listener), null);
    Tomcat.addServlet(ctx, "app", new TestApp.Servlet()).setAsyncSupported(true);
    ctx.addServletMappingDecoded("/", "app");
  }

  TestNode start() {
    try {
      tomcat.start();
    } catch (LifecycleException e) {
      throw new IllegalStateException(e);
    }
    return this;
  }

  @Override
  public String url(String path) {
    return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + path;
  }

  @Override
  public void close() {
    try {
      tomcat.stop();
      tomcat.destroy();
    } catch (LifecycleException e) {
      throw new IllegalStateException(e);
    }
  }
}
