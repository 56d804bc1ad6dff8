package io.pgsession.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Stopping and starting contexts leaves no pgsession thread or pool behind. */
class JettyRestartLeakTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @Test
  void contextRestartsShareOnePoolAndReaperAndLeaveNothingBehind() throws Exception {
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setJdbcUrl(pg.jdbcUrl());
    factory.setUser(pg.server().user());
    factory.setPassword(pg.server().password());
    factory.setAllowedPackages(JettyTestSupport.APP_PACKAGE);
    long before = pgsessionThreads().size();
    JettyNode node = JettyNode.start("a", factory, "/", "/shop");
    Browser browser = new Browser();
    ServletContextHandler root = node.contexts.get("/");
    ServletContextHandler shop = node.contexts.get("/shop");

    browser.get(node.uri("/shop", "op=incr"));
    long running = pgsessionThreads().size();
    for (int cycle = 0; cycle < 3; cycle++) {
      node.awaitIdle();
      shop.stop();
      root.stop();
      root.start();
      shop.start();
      browser.get(node.uri("/shop", "op=incr"));
    }
    long afterCycles = pgsessionThreads().size();
    String count = browser.get(node.uri("/shop", "op=incr"));
    node.close();

    assertThat(count).isEqualTo("5");
    assertThat(afterCycles).isLessThanOrEqualTo(running);
    assertThat(awaitThreads(before)).isEqualTo(before);
  }

  private static List<Thread> pgsessionThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(
            t -> t.getName().startsWith("pgsession") && !t.getName().startsWith("pgsession-test"))
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
