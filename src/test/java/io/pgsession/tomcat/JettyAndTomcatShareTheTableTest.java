package io.pgsession.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.jetty.PgSessionDataStore;
import io.pgsession.jetty.PgSessionDataStoreFactory;
import io.pgsession.jetty.PgSessions;
import io.pgsession.jetty.testapp.SessionServlet;
import io.pgsession.testing.PostgresExtension;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.Session;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.session.PersistentManager;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.session.DefaultSessionCache;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A Jetty web application and a Tomcat web application storing their sessions in one table at the
 * same time, each through its own adapter, with real HTTP requests and cookies. Time is moved by
 * moving some rows' {@code expire} into the past with SQL; each side's expiry processing (Jetty's
 * scavenger, Tomcat's {@code processExpires}) and the core reaper are then run directly.
 *
 * <p>Both applications at the root context need distinct {@code sidPrefix}es: with the default
 * (empty) prefix both record the context {@code "/"} under one key space, and each side's expiry
 * processing then also claims the other side's expired sessions and fires its own listeners for
 * them, and a {@link PgStore} counts, lists and clears the other side's rows as its own.
 */
class JettyAndTomcatShareTheTableTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private static final int USERS_PER_SIDE = 4;
  private static final int VISITS_PER_USER = 3;

  /** Where each side is deployed and which row-key prefix it uses ({@code null}: the default). */
  record Layout(
      String name,
      String jettyPath,
      @Nullable String jettyPrefix,
      String tomcatPath,
      @Nullable String tomcatPrefix) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Layout> layouts() {
    return Stream.of(
        new Layout("separate context paths", "/jetty", null, "/tomcat", null),
        new Layout("both at the root with their own sidPrefix", "/", "jetty/", "", "tomcat/"));
  }

  private @Nullable JettySide jetty;
  private @Nullable TomcatSide tomcat;
  private @Nullable StoreSide storeSide;

  @AfterEach
  void stopServers() throws Exception {
    if (storeSide != null) {
      storeSide.close();
    }
    if (tomcat != null) {
      tomcat.close();
    }
    if (jetty != null) {
      jetty.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void eachSideExpiresOnlyItsOwnSessionsAndLeavesTheOthersLiveRowsIntact(Layout layout)
      throws Exception {
    String table = "shared_" + (layout.jettyPath().equals("/") ? "root" : "paths");
    jetty = JettySide.start(layout.jettyPath(), config(table, layout.jettyPrefix()));
    tomcat = TomcatSide.start(layout.tomcatPath(), config(table, layout.tomcatPrefix()));
    List<User> jettyUsers = users(jetty);
    List<User> tomcatUsers = users(tomcat);
    visitAllAtOnce(jettyUsers, tomcatUsers);
    jetty.awaitSessionsReleased();
    User jettyGone = jettyUsers.get(0);
    User tomcatGone = tomcatUsers.get(0);
    Map<String, String> liveRowsBefore = rowsExcept(table, jettyGone.sid, tomcatGone.sid);

    expireLongAgo(table, jettyGone.sid);
    expireLongAgo(table, tomcatGone.sid);
    tomcat.processExpires();
    jetty.scavenge();
    tomcat.processExpires();
    jetty.reap();
    tomcat.reap();

    assertThat(jetty.destroyed).containsExactly(jettyGone.id);
    assertThat(tomcat.destroyed).containsExactly(tomcatGone.id);
    assertThat(rowsExcept(table)).isEqualTo(liveRowsBefore);
    assertThat(liveRowsBefore).hasSize(2 * (USERS_PER_SIDE - 1));
    assertThat(jettyGone.get("owner")).isEqualTo("no session");
    assertThat(tomcatGone.get("owner")).isEqualTo("none");
    for (User user : live(jettyUsers, tomcatUsers)) {
      assertThat(user.get("owner")).isEqualTo(user.expectedOwner());
      assertThat(user.visit()).isEqualTo(String.valueOf(VISITS_PER_USER + 1));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void persistentManagerStoreSizesKeysExpiresAndClearsOnlyItsOwnRows(Layout layout)
      throws Exception {
    String table = "stored_" + (layout.jettyPath().equals("/") ? "root" : "paths");
    jetty = JettySide.start(layout.jettyPath(), config(table, layout.jettyPrefix()));
    StoreSide store = StoreSide.start(layout.tomcatPath(), config(table, layout.tomcatPrefix()));
    storeSide = store;
    List<User> jettyUsers = users(jetty);
    List<User> storeUsers = users(store);
    visitAllAtOnce(jettyUsers, storeUsers);
    jetty.awaitSessionsReleased();
    store.swapOutEverySession();
    User jettyGone = jettyUsers.get(0);
    User storeGone = storeUsers.get(0);
    Map<String, String> jettyRowsBefore = rowsExcept(table, sids(storeUsers));
    jettyRowsBefore.remove(jettyGone.sid);
    expireLongAgo(table, jettyGone.sid);
    expireLongAgo(table, storeGone.sid);

    int size = store.store.getSize();
    List<String> keys = List.of(store.store.keys());
    List<String> expiredKeys = List.of(store.store.expiredKeys());
    store.store.processExpires();
    jetty.scavenge();
    store.store.clear();

    assertThat(size).isEqualTo(USERS_PER_SIDE);
    assertThat(keys).containsExactlyInAnyOrderElementsOf(ids(storeUsers));
    assertThat(expiredKeys).containsExactly(storeGone.id);
    assertThat(store.destroyed).containsExactly(storeGone.id);
    assertThat(jetty.destroyed).containsExactly(jettyGone.id);
    assertThat(rowsExcept(table)).isEqualTo(jettyRowsBefore);
    for (User user : jettyUsers.subList(1, jettyUsers.size())) {
      assertThat(user.get("owner")).isEqualTo(user.expectedOwner());
    }
  }

  private static String[] sids(List<User> users) {
    return users.stream().map(u -> u.sid).toArray(String[]::new);
  }

  private static List<String> ids(List<User> users) {
    return users.stream().map(u -> u.id).toList();
  }

  // ---------------------------------------------------------------- scenario

  private static PgSessionConfig config(String table, @Nullable String prefix) {
    return PgSessionConfig.builder()
        .table(table)
        .sidPrefix(prefix)
        // The reaper runs when the test says so, after the listeners had their chance.
        .reaperInterval(Duration.ZERO)
        .build();
  }

  private static List<User> users(Side side) {
    List<User> users = new ArrayList<>();
    for (int i = 0; i < USERS_PER_SIDE; i++) {
      users.add(new User(side, side.kind() + "-" + i));
    }
    return users;
  }

  /** Every user of both sides creates a session and visits a few times, all at once. */
  private static void visitAllAtOnce(List<User> jettyUsers, List<User> tomcatUsers)
      throws Exception {
    List<User> everyone = new ArrayList<>(jettyUsers);
    everyone.addAll(tomcatUsers);
    ExecutorService pool = Executors.newFixedThreadPool(everyone.size());
    try {
      List<Future<?>> runs = new ArrayList<>();
      for (User user : everyone) {
        runs.add(pool.submit(() -> user.createAndVisit(VISITS_PER_USER)));
      }
      for (Future<?> run : runs) {
        run.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<User> live(List<User> jettyUsers, List<User> tomcatUsers) {
    List<User> live = new ArrayList<>(jettyUsers.subList(1, jettyUsers.size()));
    live.addAll(tomcatUsers.subList(1, tomcatUsers.size()));
    return live;
  }

  /** One client with its own cookie jar, using one side. */
  private static final class User {
    private final Side side;
    private final String owner;
    private final HttpClient client =
        HttpClient.newBuilder()
            .cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private String id = "";
    private String sid = "";

    User(Side side, String owner) {
      this.side = side;
      this.owner = owner;
    }

    void createAndVisit(int visits) {
      send(side.setPath("owner", owner));
      id = side.bareId(send(side.idPath()));
      sid = side.prefix() + id;
      for (int i = 1; i < visits; i++) {
        visit();
      }
      String last = visit();
      if (!last.equals(String.valueOf(visits))) {
        throw new AssertionError(owner + " counted " + last + " visits instead of " + visits);
      }
    }

    String visit() {
      return send(side.visitPath());
    }

    String get(String name) {
      return send(side.getPath(name));
    }

    String expectedOwner() {
      return side.shown(owner);
    }

    private String send(String path) {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(side.url(path)))
              .timeout(Duration.ofSeconds(10))
              .build();
      try {
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          throw new AssertionError(path + " answered " + response.statusCode());
        }
        return response.body();
      } catch (IOException e) {
        throw new AssertionError("request to " + path + " failed", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  // ---------------------------------------------------------------- the two servers

  /** What the scenario needs from either server. */
  private interface Side {
    String kind();

    String prefix();

    String url(String path);

    String setPath(String name, String value);

    String getPath(String name);

    String visitPath();

    /** A request that answers the session's id, maybe among other things. */
    String idPath();

    /** How the application shows a stored string value. */
    String shown(String value);

    /** The id as the row key holds it, from what the id request answered. */
    String bareId(String answer);
  }

  /** Records the ids of the sessions a web application saw destroyed. */
  private static final class Destroyed implements HttpSessionListener {
    final List<String> ids = new CopyOnWriteArrayList<>();

    @Override
    public void sessionDestroyed(HttpSessionEvent event) {
      ids.add(event.getSession().getId());
    }
  }

  /** Jetty 12 (ee10) with the test application's {@link SessionServlet} under pgsession. */
  private static final class JettySide implements Side, AutoCloseable {
    final List<String> destroyed;
    private final Server server;
    private final ServerConnector connector;
    private final ServletContextHandler context;
    private final String base;

    private JettySide(String path, PgSessionConfig config) {
      server = new Server();
      connector = new ServerConnector(server);
      connector.setHost("127.0.0.1");
      connector.setPort(0);
      server.addConnector(connector);
      context = new ServletContextHandler(path, ServletContextHandler.SESSIONS);
      context.addServlet(SessionServlet.class, "/*");
      // Jetty's default is no expiry at all; Tomcat's is 30 minutes.
      context.getSessionHandler().setMaxInactiveInterval(1800);
      Destroyed listener = new Destroyed();
      destroyed = listener.ids;
      context.addEventListener(listener);
      PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
      factory.setDataSource(pg.dataSource());
      factory.setConfig(config);
      PgSessions.install(context.getSessionHandler(), factory);
      server.setHandler(context);
      base = path.equals("/") ? "" : path;
    }

    static JettySide start(String path, PgSessionConfig config) throws Exception {
      JettySide side = new JettySide(path, config);
      side.server.start();
      return side;
    }

    @Override
    public String kind() {
      return "jetty";
    }

    @Override
    public String prefix() {
      return store().sidPrefix();
    }

    @Override
    public String url(String path) {
      return "http://127.0.0.1:" + connector.getLocalPort() + base + path;
    }

    @Override
    public String setPath(String name, String value) {
      return "/?op=set&name=" + name + "&value=" + value;
    }

    @Override
    public String getPath(String name) {
      return "/?op=get&name=" + name;
    }

    @Override
    public String visitPath() {
      return "/?op=incr";
    }

    @Override
    public String idPath() {
      return "/?op=read";
    }

    @Override
    public String shown(String value) {
      return "java.lang.String:" + value;
    }

    @Override
    public String bareId(String answer) {
      return answer.split(" ", 2)[0];
    }

    /** Runs the scavenger as Jetty's HouseKeeper would. */
    void scavenge() {
      context.getSessionHandler().scavenge();
    }

    void reap() {
      store().store().reap();
    }

    /**
     * Waits until no session is held in memory: Jetty saves a session when its last request lets go
     * of it, which may be after the client got the response.
     */
    void awaitSessionsReleased() {
      DefaultSessionCache cache =
          (DefaultSessionCache) context.getSessionHandler().getSessionCache();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (cache.getSessionsCurrent() > 0) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(cache.getSessionsCurrent() + " sessions still held after 10 s");
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
    }

    private PgSessionDataStore store() {
      return (PgSessionDataStore)
          context.getSessionHandler().getSessionCache().getSessionDataStore();
    }

    @Override
    public void close() throws Exception {
      server.stop();
    }
  }

  /** Tomcat with {@link TestApp}'s servlet under a {@link PgSessionManager}. */
  private static final class TomcatSide implements Side, AutoCloseable {
    final List<String> destroyed;
    private final Tomcat tomcat = new Tomcat();
    private final PgSessionManager manager = new PgSessionManager();
    private final String base;

    private TomcatSide(String path, PgSessionConfig config) throws IOException {
      tomcat.setBaseDir(Files.createTempDirectory("pgsession-shared-tomcat").toString());
      Connector connector = new Connector("HTTP/1.1");
      connector.setPort(0);
      connector.setProperty("address", "127.0.0.1");
      tomcat.setConnector(connector);
      manager.setDataSource(pg.dataSource());
      manager.setConfig(config);
      Context ctx =
          tomcat.addContext(path, Files.createTempDirectory("pgsession-docbase").toString());
      ctx.setManager(manager);
      Destroyed listener = new Destroyed();
      destroyed = listener.ids;
      ctx.addServletContainerInitializer((classes, sc) -> sc.addListener(listener), null);
      Tomcat.addServlet(ctx, "app", new TestApp.Servlet());
      ctx.addServletMappingDecoded("/", "app");
      base = path;
    }

    static TomcatSide start(String path, PgSessionConfig config) throws Exception {
      TomcatSide side = new TomcatSide(path, config);
      side.tomcat.start();
      return side;
    }

    @Override
    public String kind() {
      return "tomcat";
    }

    @Override
    public String prefix() {
      return manager.sidOf("");
    }

    @Override
    public String url(String path) {
      return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + base + path;
    }

    @Override
    public String setPath(String name, String value) {
      return "/set?name=" + name + "&value=" + value;
    }

    @Override
    public String getPath(String name) {
      return "/get?name=" + name;
    }

    @Override
    public String visitPath() {
      return "/incr";
    }

    @Override
    public String idPath() {
      return "/id";
    }

    @Override
    public String shown(String value) {
      return value;
    }

    @Override
    public String bareId(String answer) {
      // No jvmRoute is set, so the id carries no route suffix.
      return answer;
    }

    void processExpires() {
      manager.processExpires();
    }

    void reap() {
      manager.store().reap();
    }

    @Override
    public void close() throws Exception {
      tomcat.stop();
      tomcat.destroy();
    }
  }

  /** Tomcat's own PersistentManager with {@link PgStore}, serving {@link TestApp}'s servlet. */
  private static final class StoreSide implements Side, AutoCloseable {
    final List<String> destroyed;
    final PgStore store = new PgStore();
    private final Tomcat tomcat = new Tomcat();
    private final PersistentManager manager = new PersistentManager();
    private final String base;
    private final String prefix;

    private StoreSide(String path, PgSessionConfig config) throws IOException {
      String configured = config.sidPrefix();
      prefix = configured != null ? configured : PgSessionManager.defaultPrefix(path);
      tomcat.setBaseDir(Files.createTempDirectory("pgsession-shared-store").toString());
      Connector connector = new Connector("HTTP/1.1");
      connector.setPort(0);
      connector.setProperty("address", "127.0.0.1");
      tomcat.setConnector(connector);
      store.setDataSource(pg.dataSource());
      store.setConfig(config);
      manager.setStore(store);
      Context ctx =
          tomcat.addContext(path, Files.createTempDirectory("pgsession-docbase").toString());
      ctx.setManager(manager);
      Destroyed listener = new Destroyed();
      destroyed = listener.ids;
      ctx.addServletContainerInitializer((classes, sc) -> sc.addListener(listener), null);
      Tomcat.addServlet(ctx, "app", new TestApp.Servlet());
      ctx.addServletMappingDecoded("/", "app");
      base = path;
    }

    static StoreSide start(String path, PgSessionConfig config) throws Exception {
      StoreSide side = new StoreSide(path, config);
      side.tomcat.start();
      return side;
    }

    /** Writes every session to the store and drops it from memory, as a swap-out does. */
    void swapOutEverySession() throws IOException {
      for (Session session : manager.findSessions()) {
        store.save(session);
        manager.removeSuper(session);
      }
    }

    @Override
    public String kind() {
      return "store";
    }

    @Override
    public String prefix() {
      return prefix;
    }

    @Override
    public String url(String path) {
      return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + base + path;
    }

    @Override
    public String setPath(String name, String value) {
      return "/set?name=" + name + "&value=" + value;
    }

    @Override
    public String getPath(String name) {
      return "/get?name=" + name;
    }

    @Override
    public String visitPath() {
      return "/incr";
    }

    @Override
    public String idPath() {
      return "/id";
    }

    @Override
    public String shown(String value) {
      return value;
    }

    @Override
    public String bareId(String answer) {
      return answer;
    }

    @Override
    public void close() throws Exception {
      tomcat.stop();
      tomcat.destroy();
    }
  }

  // ---------------------------------------------------------------- SQL

  private static void expireLongAgo(String table, String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE " + table + " SET expire = expire - interval '2 hours' WHERE sid = ?")) {
      ps.setString(1, sid);
      assertThat(ps.executeUpdate()).as("rows of %s", sid).isOne();
    }
  }

  /** Every row's document and expiry by sid, except the given sids. */
  private static Map<String, String> rowsExcept(String table, String... excluded)
      throws SQLException {
    Map<String, String> rows = new TreeMap<>();
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT sid, sess::text || ' ' || expire FROM " + table);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        rows.put(rs.getString(1), rs.getString(2));
      }
    }
    for (String sid : excluded) {
      assertThat(rows.remove(sid)).as("row %s", sid).isNotNull();
    }
    return rows;
  }
}
