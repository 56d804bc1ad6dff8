package io.pgsession.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.jetty.PgSessionDataStoreFactory;
import io.pgsession.jetty.PgSessions;
import io.pgsession.testing.PostgresServer;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.servlet.SessionHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.session.DatabaseAdaptor;
import org.eclipse.jetty.session.DefaultSessionCache;
import org.eclipse.jetty.session.JDBCSessionDataStore;
import org.eclipse.jetty.session.SessionCache;

/**
 * End to end: HTTP requests from a Java client on 127.0.0.1 to an embedded Jetty 12 application
 * whose sessions are in memory, in pgsession, or in Jetty's JDBC store, one after the other on one
 * PostgreSQL. Prints requests per second and latency percentiles side by side and writes them to
 * {@code target/benchmarks/http.md}.
 *
 * <p>Run it with {@code mvn -q -Pbench test-compile exec:java
 * -Dexec.mainClass=io.pgsession.bench.HttpLoadBenchmark}. System properties: {@code bench.seconds}
 * (measured seconds per setup, default 10), {@code bench.warmup} (default 3), {@code bench.clients}
 * (client threads, default 8), {@code bench.sessions} (sessions per client thread, default 50).
 * Each client thread sends one request at a time: 80% read the session, 15% change one attribute,
 * 5% start a new session in place of an old one. Both persistent stores sit behind Jetty's session
 * cache with {@code EVICT_ON_SESSION_EXIT}, as pgsession recommends, so that every request reads
 * its session from the database, as it must when several nodes serve one user.
 */
public final class HttpLoadBenchmark {
  private static final int MAX_INACTIVE_SECONDS = 1800;

  private HttpLoadBenchmark() {}

  /** One of the compared set-ups: how the session handler stores its sessions. */
  private record Setup(String name, Consumer<SessionHandler> install) {}

  private record Result(
      String setup, long requests, double seconds, long p50, long p99, int errors) {}

  public static void main(String[] args) throws Exception {
    Duration warmUp = seconds("bench.warmup", "3");
    Duration measure = seconds("bench.seconds", "10");
    int clients = Integer.getInteger("bench.clients", 8);
    int sessions = Integer.getInteger("bench.sessions", 50);
    PostgresServer pg = PostgresServer.get();
    String url = pg.createDatabase("http_bench");
    List<Result> results = new ArrayList<>();
    try (HikariDataSource ds =
        PgDataSources.create(pg.settings(url).withPool(10, Duration.ofSeconds(30)), "http-bench")) {
      // One unmeasured round first, so that the first set-up does not pay for the JIT alone.
      List<Setup> setups = setups(ds);
      run(setups.get(0), warmUp, warmUp, clients, sessions);
      for (Setup setup : setups) {
        results.add(run(setup, warmUp, measure, clients, sessions));
        System.out.println(line(results.get(results.size() - 1)));
      }
    }
    String table = table(results, clients, measure);
    System.out.println();
    System.out.println(table);
    Path out = Path.of("target/benchmarks/http.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, table);
    System.out.println("written: " + out);
    System.exit(0);
  }

  private static List<Setup> setups(DataSource ds) {
    return List.of(
        new Setup("in memory (Jetty default)", handler -> {}),
        new Setup(
            "pgsession",
            handler -> {
              PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
              factory.setDataSource(ds);
              PgSessions.install(handler, factory);
            }),
        new Setup(
            "Jetty JDBCSessionDataStore",
            handler -> {
              DatabaseAdaptor adaptor = new DatabaseAdaptor();
              adaptor.setDatasource(ds);
              adaptor.setBlobType("bytea");
              adaptor.setLongType("bigint");
              JDBCSessionDataStore store = new JDBCSessionDataStore();
              store.setDatabaseAdaptor(adaptor);
              DefaultSessionCache cache = new DefaultSessionCache(handler);
              cache.setEvictionPolicy(SessionCache.EVICT_ON_SESSION_EXIT);
              cache.setSessionDataStore(store);
              handler.setSessionCache(cache);
            }));
  }

  /** The application: reads or changes the session, or starts a new one. */
  static final class SessionServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      String op = String.valueOf(request.getParameter("op"));
      HttpSession session = request.getSession(true);
      if (op.equals("new") || session.isNew()) {
        SessionShape.SMALL.attributes().forEach(session::setAttribute);
      } else if (op.equals("change")) {
        Object visits = session.getAttribute("visits");
        session.setAttribute("visits", visits instanceof Long l ? l + 1 : 1L);
      } else {
        session.getAttribute("visits");
      }
      response.setContentType("text/plain");
      response.getWriter().write("ok");
    }
  }

  private static Result run(
      Setup setup, Duration warmUp, Duration measure, int clients, int sessions) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler("/", ServletContextHandler.SESSIONS);
    context.addServlet(new ServletHolder(new SessionServlet()), "/*");
    context.getSessionHandler().setMaxInactiveInterval(MAX_INACTIVE_SECONDS);
    setup.install().accept(context.getSessionHandler());
    server.setHandler(context);
    server.start();
    try {
      URI base = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/");
      return load(setup.name(), base, warmUp, measure, clients, sessions);
    } finally {
      server.stop();
    }
  }

  private static Result load(
      String name, URI base, Duration warmUp, Duration measure, int clients, int sessions)
      throws InterruptedException {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    long start = System.nanoTime() + warmUp.toNanos();
    long end = start + measure.toNanos();
    List<long[]> latencies = new ArrayList<>();
    int[] counts = new int[clients];
    int[] errors = new int[clients];
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      long[] mine = new long[1 << 20];
      latencies.add(mine);
      Thread t =
          new Thread(
              () -> {
                try {
                  counts[client] =
                      clientLoop(http, base, sessions, start, end, mine, errors, client);
                } catch (Exception e) {
                  failure.compareAndSet(null, e);
                }
              },
              "http-client-" + c);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join(warmUp.plus(measure).plusMinutes(2).toMillis());
    }
    if (failure.get() != null) {
      throw new IllegalStateException(name + " failed", failure.get());
    }
    long[] all = new long[0];
    for (int c = 0; c < clients; c++) {
      long[] mine = Arrays.copyOf(latencies.get(c), counts[c]);
      all = Arrays.copyOf(all, all.length + mine.length);
      System.arraycopy(mine, 0, all, all.length - mine.length, mine.length);
    }
    Arrays.sort(all);
    return new Result(
        name,
        all.length,
        measure.toNanos() / 1e9,
        CellRunner.percentile(all, 0.5),
        CellRunner.percentile(all, 0.99),
        Arrays.stream(errors).sum());
  }

  /** One client thread: sends requests until {@code end}, recording those after {@code start}. */
  private static int clientLoop(
      HttpClient http,
      URI base,
      int sessions,
      long start,
      long end,
      long[] latencies,
      int[] errors,
      int client)
      throws IOException, InterruptedException {
    SplittableRandom random = new SplittableRandom();
    String[] cookies = new String[sessions];
    int recorded = 0;
    while (true) {
      long before = System.nanoTime();
      if (before >= end || recorded == latencies.length) {
        return recorded;
      }
      int slot = random.nextInt(sessions);
      int dice = random.nextInt(100);
      String op = cookies[slot] == null || dice < 5 ? "new" : dice < 20 ? "change" : "read";
      HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("/?op=" + op));
      if (!op.equals("new")) {
        request.header("Cookie", cookies[slot]);
      }
      HttpResponse<String> response =
          http.send(
              request.timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofString());
      long after = System.nanoTime();
      if (response.statusCode() != 200) {
        errors[client]++;
      }
      response
          .headers()
          .firstValue("set-cookie")
          .ifPresent(c -> cookies[slot] = c.substring(0, c.indexOf(';')));
      if (before >= start) {
        latencies[recorded++] = after - before;
      }
    }
  }

  private static Duration seconds(String name, String fallback) {
    return Duration.ofMillis(
        (long) (Double.parseDouble(System.getProperty(name, fallback)) * 1000));
  }

  private static String line(Result r) {
    return String.format(
        Locale.ROOT,
        "%-28s %8.0f req/s  p50 %6.0f µs  p99 %7.0f µs  errors %d",
        r.setup(),
        r.requests() / r.seconds(),
        r.p50() / 1000.0,
        r.p99() / 1000.0,
        r.errors());
  }

  private static String table(List<Result> results, int clients, Duration measure) {
    StringBuilder sb =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%d client threads on 127.0.0.1, %s measured per setup%n%n",
                clients,
                measure));
    sb.append("| sessions | req/s | p50 µs | p99 µs | errors |\n|---|--:|--:|--:|--:|\n");
    for (Result r : results) {
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.0f | %.0f | %d |%n",
              r.setup(),
              r.requests() / r.seconds(),
              r.p50() / 1000.0,
              r.p99() / 1000.0,
              r.errors()));
    }
    return sb.toString();
  }
}
