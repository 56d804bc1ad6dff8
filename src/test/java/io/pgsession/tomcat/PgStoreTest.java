package io.pgsession.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionStore;
import io.pgsession.testing.PostgresExtension;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.session.PersistentManager;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Tomcat's own PersistentManager with {@link PgStore}, in a real embedded Tomcat. */
class PgStoreTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @BeforeAll
  static void createTable() {
    new PgSessionStore(
            pg.dataSource(), PgSessionConfig.defaults(), PgStoreTest.class.getClassLoader())
        .ensureTable();
  }

  /** A Tomcat serving {@link TestApp} under {@code /store} through PersistentManager + PgStore. */
  static final class StoreNode implements AutoCloseable, Browser.Target {
    final Tomcat tomcat = new Tomcat();
    final PersistentManager manager = new PersistentManager();
    final PgStore store = new PgStore();
    final TestApp.Events events = new TestApp.Events();

    StoreNode() throws Exception {
      Path base = Files.createTempDirectory("pgsession-store");
      tomcat.setBaseDir(base.toString());
      tomcat.getEngine().setName("store-" + System.nanoTime());
      Connector connector = new Connector("HTTP/1.1");
      connector.setPort(0);
      connector.setProperty("address", "127.0.0.1");
      tomcat.setConnector(connector);
      File docBase = base.resolve("store").toFile();
      docBase.mkdirs();
      Context ctx = tomcat.addContext("/store", docBase.getAbsolutePath());
      store.setDataSource(pg.dataSource());
      store.setConfig(PgSessionConfig.builder().allowPackages("io.pgsession.tomcat").build());
      manager.setStore(store);
      ctx.setManager(manager);
      ctx.addServletContainerInitializer((classes, sc) -> sc.addListener(events), null);
      Tomcat.addServlet(ctx, "app", new TestApp.Servlet());
      ctx.addServletMappingDecoded("/", "app");
      tomcat.start();
    }

    @Override
    public String url(String path) {
      return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + path;
    }

    /** Writes every session to the store and drops it from memory, as a swap-out does. */
    void swapOutEverySession() throws java.io.IOException {
      for (org.apache.catalina.Session session : manager.findSessions()) {
        store.save(session);
        manager.removeSuper(session);
      }
    }

    @Override
    public void close() throws Exception {
      tomcat.stop();
      tomcat.destroy();
    }
  }

  @Test
  void sessionWrittenAtStopIsReadableJsonAndComesBackAfterRestart() throws Exception {
    Browser browser = new Browser();
    String id;
    try (StoreNode node = new StoreNode()) {
      browser.get(node, "/store/set?name=user&value=ann");
      browser.get(node, "/store/incr");
      id = browser.get(node, "/store/id");
    }

    String user = queryString("SELECT sess->>'user' FROM session WHERE sid = ?", "/store/" + id);
    String counter;
    String restored;
    try (StoreNode node = new StoreNode()) {
      restored = browser.get(node, "/store/get?name=user");
      counter = browser.get(node, "/store/incr");
    }

    assertThat(user).isEqualTo("ann");
    assertThat(restored).isEqualTo("ann");
    assertThat(counter).isEqualTo("2");
  }

  @Test
  void keysAndSizeCountOnlyThisContextsRows() throws Exception {
    sql(
        "INSERT INTO session (sid, sess, expire) VALUES (?, '{\"pgsession\":{\"context\":\"/other\"}}',"
            + " now() + interval '1 hour')",
        "/other/zzz");
    try (StoreNode node = new StoreNode()) {
      Browser browser = new Browser();
      browser.get(node, "/store/set?name=x&value=1");
      String id = browser.get(node, "/store/id");
      node.swapOutEverySession();

      int size = node.store.getSize();
      String[] keys = node.store.keys();

      assertThat(keys).contains(id).doesNotContain("/other/zzz", "zzz");
      assertThat(size).isEqualTo(keys.length);
    }
  }

  @Test
  void processExpiresFiresListenersForAnExpiredStoredSessionAndDeletesItsRow() throws Exception {
    try (StoreNode node = new StoreNode()) {
      Browser browser = new Browser();
      browser.get(node, "/store/track?name=t");
      String id = browser.get(node, "/store/id");
      node.swapOutEverySession();
      int unbound = TestApp.Tracked.UNBOUND.get();
      sql("UPDATE session SET expire = expire - interval '2 hours' WHERE sid = ?", "/store/" + id);

      node.store.processExpires();
      node.store.processExpires();

      assertThat(node.events.destroyed.get()).isOne();
      assertThat(TestApp.Tracked.UNBOUND.get() - unbound).isOne();
      assertThat(queryString("SELECT count(*) FROM session WHERE sid = ?", "/store/" + id))
          .isEqualTo("0");
    }
  }

  static void sql(String statement, String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(statement)) {
      ps.setString(1, sid);
      ps.executeUpdate();
    }
  }

  static String queryString(String query, String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(query)) {
      ps.setString(1, sid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }
}
