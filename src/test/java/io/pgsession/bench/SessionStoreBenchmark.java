package io.pgsession.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.testing.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compares pgsession with the session stores users would pick instead, in one run, on one
 * PostgreSQL and one HikariCP pool: every workload for every session shape and thread count, each
 * store in turn, so that drift in the machine's state touches all of them alike.
 *
 * <p>Each cell runs in rounds, the stores taking turns, and reports the round of median throughput,
 * so that a moment of contention on the machine moves one round rather than one store's figure.
 *
 * <p>Run it with {@code mvn -q -Pbench test-compile exec:java}. System properties: {@code
 * bench.seconds} (measured seconds per round, default 1), {@code bench.warmup} (warm-up seconds per
 * round, default 0.5), {@code bench.rounds} (default 3), {@code bench.threads} (default {@code
 * 1,8}), {@code bench.shapes}, {@code bench.workloads} and {@code bench.stores} (comma-separated
 * names or name parts; default all), {@code bench.sessions} (sessions per store and shape, default
 * 1600), {@code bench.pool} (pool size, default 10), {@code bench.jdbc} (pgjdbc URL parameters to
 * add, such as {@code prepareThreshold=1&binaryTransfer=false}), {@code bench.readCacheBytes}
 * (pgsession's setting; 0 turns its read cache off), {@code bench.out} (default {@code
 * target/benchmarks}). The database is the tests' one: {@code PGSESSION_TEST_URL} if set, else an
 * embedded PostgreSQL.
 */
public final class SessionStoreBenchmark {
  /** The inactivity interval of every session; its tenth is pgsession's touch window. */
  static final int MAX_INACTIVE_SECONDS = 7200;

  private final Settings settings;

  /** What to run. */
  record Settings(
      Duration warmUp,
      Duration measure,
      List<Integer> threads,
      List<SessionShape> shapes,
      List<Workload> workloads,
      List<String> stores,
      int rounds,
      int sessions,
      int poolSize,
      String jdbcParameters,
      Path out) {

    static Settings fromSystemProperties() {
      return new Settings(
          seconds("bench.warmup", "0.5"),
          seconds("bench.seconds", "1"),
          list("bench.threads", "1,8").stream().map(Integer::valueOf).toList(),
          enums("bench.shapes", SessionShape.class),
          enums("bench.workloads", Workload.class),
          list("bench.stores", ""),
          Integer.parseInt(System.getProperty("bench.rounds", "3")),
          Integer.parseInt(System.getProperty("bench.sessions", "1600")),
          Integer.parseInt(System.getProperty("bench.pool", "10")),
          System.getProperty("bench.jdbc", ""),
          Path.of(System.getProperty("bench.out", "target/benchmarks")));
    }

    private static Duration seconds(String name, String fallback) {
      return Duration.ofMillis(
          (long) (Double.parseDouble(System.getProperty(name, fallback)) * 1000));
    }

    private static List<String> list(String name, String fallback) {
      return Arrays.stream(System.getProperty(name, fallback).split(","))
          .map(String::strip)
          .filter(s -> !s.isEmpty())
          .toList();
    }

    private static <E extends Enum<E>> List<E> enums(String name, Class<E> type) {
      List<String> names = list(name, "");
      if (names.isEmpty()) {
        return List.of(type.getEnumConstants());
      }
      return names.stream()
          .map(n -> Enum.valueOf(type, n.toUpperCase(Locale.ROOT).replace('-', '_')))
          .toList();
    }
  }

  SessionStoreBenchmark(Settings settings) {
    this.settings = settings;
  }

  public static void main(String[] args) throws Exception {
    Settings settings = Settings.fromSystemProperties();
    Report report = new SessionStoreBenchmark(settings).run();
    System.out.println(report.table());
    for (Path written : report.write(settings.out())) {
      System.out.println("written: " + written);
    }
    System.exit(0);
  }

  /** Runs every cell on a fresh database of the test server. */
  Report run() throws Exception {
    PostgresServer server = PostgresServer.get();
    String url = withParameters(server.createDatabase("bench"), settings.jdbcParameters());
    PgDataSources.Settings pool =
        server.settings(url).withPool(settings.poolSize(), Duration.ofSeconds(30));
    try (HikariDataSource ds = PgDataSources.create(pool, "bench")) {
      StatementCounter counter = new StatementCounter(ds);
      List<StoreDriver<?>> stores =
          Stores.create(counter.dataSource(), MAX_INACTIVE_SECONDS, settings.stores());
      try {
        List<String> notes = notes(ds, server, stores);
        notes.forEach(System.out::println);
        return new Report(runAll(stores, counter), notes);
      } finally {
        for (StoreDriver<?> store : stores) {
          store.close();
        }
      }
    }
  }

  /** The URL with pgjdbc parameters such as {@code prepareThreshold=1} added. */
  static String withParameters(String url, String parameters) {
    if (parameters.isBlank()) {
      return url;
    }
    return url + (url.contains("?") ? "&" : "?") + parameters.strip();
  }

  private List<CellResult> runAll(List<StoreDriver<?>> stores, StatementCounter counter)
      throws Exception {
    CellRunner runner = new CellRunner(counter, settings.warmUp(), settings.measure());
    List<CellResult> results = new ArrayList<>();
    for (SessionShape shape : settings.shapes()) {
      Map<StoreDriver<?>, List<String>> sessions = populate(stores, shape);
      for (StoreDriver<?> store : stores) {
        // One untimed mixed cell per store so that the first measured cells are not the coldest.
        sessions.put(
            store, runner.run(store, Workload.MIXED, shape, 2, sessions.get(store)).sessions());
      }
      for (Workload workload : settings.workloads()) {
        for (int threads : settings.threads()) {
          Map<StoreDriver<?>, List<CellResult>> rounds = new HashMap<>();
          for (int round = 0; round < settings.rounds(); round++) {
            for (int i = 0; i < stores.size(); i++) {
              StoreDriver<?> store = stores.get(turn(round, i, stores.size()));
              CellRunner.Outcome outcome =
                  runner.run(store, workload, shape, threads, sessions.get(store));
              sessions.put(store, outcome.sessions());
              rounds.computeIfAbsent(store, s -> new ArrayList<>()).add(outcome.result());
            }
          }
          for (StoreDriver<?> store : stores) {
            List<CellResult> mine = rounds.get(store);
            CellResult median =
                median(mine).withRoundRates(mine.stream().map(CellResult::opsPerSecond).toList());
            results.add(median);
            System.out.println(line(median));
          }
        }
      }
    }
    return results;
  }

  /**
   * Which of {@code stores} stores runs {@code i}th in {@code round}: each round starts with
   * another store, so that none always runs first or last, and every other round goes through the
   * list backwards, so that no store always runs right after the same one (and meets the same
   * leftovers of its writes, such as a vacuum it set off).
   */
  static int turn(int round, int i, int stores) {
    return Math.floorMod(round + (round % 2 == 0 ? i : -i), stores);
  }

  /**
   * The round with the median throughput, whose figures are reported together; a failed round
   * instead, if there was one.
   */
  static CellResult median(List<CellResult> rounds) {
    for (CellResult r : rounds) {
      if (r.failed()) {
        return r;
      }
    }
    List<CellResult> sorted = new ArrayList<>(rounds);
    sorted.sort(java.util.Comparator.comparingDouble(CellResult::opsPerSecond));
    return sorted.get(sorted.size() / 2);
  }

  private Map<StoreDriver<?>, List<String>> populate(
      List<StoreDriver<?>> stores, SessionShape shape) throws Exception {
    Map<StoreDriver<?>, List<String>> sessions = new HashMap<>();
    long now = System.currentTimeMillis();
    for (StoreDriver<?> store : stores) {
      store.clear();
      List<String> ids = new ArrayList<>(settings.sessions());
      for (int i = 0; i < settings.sessions(); i++) {
        ids.add(store.create(String.format("%032x", i + 1L), now, shape.attributes()));
      }
      sessions.put(store, ids);
    }
    return sessions;
  }

  private List<String> notes(
      HikariDataSource ds, PostgresServer server, List<StoreDriver<?>> stores) throws Exception {
    List<String> notes = new ArrayList<>();
    notes.add(
        String.format(
            Locale.ROOT,
            "PostgreSQL %s (%s), HikariCP pool of %d shared by all stores, %d sessions per store"
                + " and shape, each cell the median of %d rounds of %s warm-up + %s measured,"
                + " stores taking turns, %d cores, Java %s%s",
            serverVersion(ds),
            server.kind(),
            settings.poolSize(),
            settings.sessions(),
            settings.rounds(),
            settings.warmUp(),
            settings.measure(),
            Runtime.getRuntime().availableProcessors(),
            System.getProperty("java.version"),
            settings.jdbcParameters().isBlank() ? "" : ", pgjdbc " + settings.jdbcParameters()));
    notes.add("Stores: " + stores.stream().map(StoreDriver::name).toList());
    notes.add("pgsession readCacheBytes=" + Stores.readCacheBytes());
    return notes;
  }

  private static String serverVersion(HikariDataSource ds) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW server_version")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static String line(CellResult r) {
    return String.format(
        Locale.ROOT,
        "%-6s %-11s %d  %-28s %9.0f ops/s  p50 %6.0f µs  p99 %7.0f µs  %.2f stmts/op  cpu %5.0f µs/op"
            + "  machine %5.0f µs/op%s",
        r.shape().name().toLowerCase(Locale.ROOT),
        r.workload().label,
        r.threads(),
        r.store(),
        r.opsPerSecond(),
        r.p50Nanos() / 1000.0,
        r.p99Nanos() / 1000.0,
        r.statementsPerOperation(),
        r.clientCpuMicros(),
        r.machineCpuMicros(),
        r.failed() ? "  FAILED " + r.error() : "");
  }
}
