package io.pgsession.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Stopping and starting a context leaves no pgsession thread or pool behind. */
class TomcatRestartLeakTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @Test
  void contextRestartsLeaveNoReaperOrPoolThreadBehind() throws Exception {
    Path base = Files.createTempDirectory("pgsession-tomcat-leak");
    Tomcat tomcat = newTomcat(base);
    Context ctx = addContext(tomcat, base);
    Browser.Target node = path -> "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + path;
    long before = pgsessionThreads().size();
    try {
      tomcat.start();

      String count = new Browser().get(node, "/leak/incr");
      for (int cycle = 0; cycle < 3; cycle++) {
        ctx.stop();
        ctx.start();
      }
      ctx.stop();

      assertThat(count).isEqualTo("1");
      assertThat(awaitThreads(before)).isEqualTo(before);
    } finally {
      tomcat.stop();
      tomcat.destroy();
    }
  }

  /**
   * Tomcat reports a thread whose context class loader is the web application's as a leak when the
   * context stops before the thread has ended, and such a thread keeps the loader reachable.
   */
  @Test
  void reaperAndPoolThreadsDoNotHoldTheWebApplicationsClassLoader() throws Exception {
    Path base = Files.createTempDirectory("pgsession-tomcat-leak");
    Tomcat tomcat = newTomcat(base);
    Context ctx = addContext(tomcat, base);
    Browser.Target node = path -> "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + path;
    try {
      tomcat.start();
      new Browser().get(node, "/leak/incr");

      ClassLoader webApp = ctx.getLoader().getClassLoader();
      // The pool's connection adders start on request threads, but the pool's close waits for
      // them; the reaper and the housekeeper live as long as the context.
      List<Thread> threads =
          pgsessionThreads().stream().filter(t -> !t.getName().contains("adder")).toList();

      assertThat(threads).extracting(Thread::getName).anyMatch(n -> n.contains("reaper"));
      assertThat(threads).extracting(Thread::getName).anyMatch(n -> n.contains("housekeeper"));
      assertThat(threads).allMatch(t -> t.getContextClassLoader() != webApp, "not the web app's");
    } finally {
      tomcat.stop();
      tomcat.destroy();
    }
  }

  private static Tomcat newTomcat(Path base) {
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(base.toString());
    tomcat.getEngine().setName("leak");
    Connector connector = new Connector("HTTP/1.1");
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.setConnector(connector);
    return tomcat;
  }

  private static Context addContext(Tomcat tomcat, Path base) throws IOException {
    Path docBase = Files.createDirectories(base.resolve("leak"));
    Context ctx = tomcat.addContext("/leak", docBase.toString());
    PgSessionManager manager = new PgSessionManager();
    manager.setJdbcUrl(pg.jdbcUrl());
    manager.setUser(pg.server().user());
    manager.setPassword(pg.server().password() == null ? "" : pg.server().password());
    manager.setMaxPoolSize(2);
    ctx.setManager(manager);
    Tomcat.addServlet(ctx, "app", new TestApp.Servlet());
    ctx.addServletMappingDecoded("/", "app");
    return ctx;
  }

  /** Threads of pgsession's reapers and pools (the pools are named after pgsession). */
  private static List<Thread> pgsessionThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(t -> t.getName().startsWith("pgsession"))
        .toList();
  }

  private static long awaitThreads(long expected) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long now = pgsessionThreads().size();
    while (now > expected && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
      now = pgsessionThreads().size();
    }
    return now;
  }
}
