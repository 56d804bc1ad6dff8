package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionStore;
import io.pgsession.testing.PostgresExtension;
import io.pgsession.testing.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Many expired rows and some live ones: two nodes reap at once in bounded batches that never
 * interleave, every expired row goes exactly once, every live row stays, and live sessions keep
 * loading meanwhile. A statement trigger records which node deleted how many rows in which
 * transaction.
 */
class ReaperAtScaleTest {
  private static final Logger log = LoggerFactory.getLogger(ReaperAtScaleTest.class);
  private static final int LIVE = 10_000;
  private static final int LOADERS = 2;
  private static final int BASELINE_LOADS_PER_LOADER = 2_000;
  private static final int WARM_UP_LOADS = 500;

  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @Test
  void twoNodesReapTwentyThousandExpiredRowsInBatchesWhileLiveSessionsLoad() throws Exception {
    reapWhileLoading("small", 20_000);
  }

  @Test
  @Tag("slow")
  void twoNodesReapAMillionExpiredRowsInBatchesWhileLiveSessionsLoad() throws Exception {
    reapWhileLoading("large", Integer.getInteger("pgsession.reaper.expiredRows", 1_000_000));
  }

  private void reapWhileLoading(String table, int expired) throws Exception {
    PgSessionConfig config =
        PgSessionConfig.builder().table(table).reaperGrace(Duration.ZERO).build();
    PgSessionStore nodeA = store(config, "node-a");
    PgSessionStore nodeB = store(config, "node-b");
    fill(nodeA, table, expired);
    loadLatencies(nodeB, WARM_UP_LOADS);
    long[] baseline = loadLatenciesOnLoaders(nodeB);

    Reaping reaping = reapTogether(nodeA, nodeB);

    List<Batch> batches = batches(nodeA, table);
    long logged = batches.stream().mapToLong(Batch::deleted).sum();
    log.info(
        "[figures] {} expired + {} live rows: node-a reaped {}, node-b reaped {} in {} ms,"
            + " {} batches (largest {}), live loads p50/p99 {}/{} us without reaping ({} loads),"
            + " {}/{} us during reaping ({} loads)",
        expired,
        LIVE,
        reaping.resultA(),
        reaping.resultB(),
        reaping.millis(),
        batches.size(),
        batches.stream().mapToInt(Batch::deleted).max().orElse(0),
        percentileMicros(baseline, 0.50),
        percentileMicros(baseline, 0.99),
        baseline.length,
        percentileMicros(reaping.latencies(), 0.50),
        percentileMicros(reaping.latencies(), 0.99),
        reaping.latencies().length);
    assertThat(Math.max(reaping.resultA(), 0) + Math.max(reaping.resultB(), 0))
        .as("rows the two nodes say they reaped")
        .isEqualTo(expired);
    assertThat(logged).as("rows the trigger saw deleted").isEqualTo(expired);
    assertThat(batches).allMatch(b -> b.deleted() <= config.reaperBatchSize());
    assertThat(overlaps(batches)).as("batches that ran at the same time").isEmpty();
    assertThat(count(nodeA, table, "expire < timezone('UTC', now())")).isZero();
    assertThat(count(nodeA, table, "sid LIKE 'live-%'")).isEqualTo(LIVE);
    assertThat(reaping.missingLive()).as("live sessions that did not load").isZero();
  }

  private static PgSessionStore store(PgSessionConfig config, String node) {
    String url =
        pg.jdbcUrl() + (pg.jdbcUrl().contains("?") ? "&" : "?") + "ApplicationName=" + node;
    DataSource pool =
        io.pgsession.PgDataSources.create(PostgresServer.get().settings(url), "reaper-" + node);
    return new PgSessionStore(pool, config, ReaperAtScaleTest.class.getClassLoader());
  }

  /** Inserts the rows in SQL, and a trigger that logs each delete statement's rows and node. */
  private static void fill(PgSessionStore store, String table, int expired) throws SQLException {
    store.ensureTable();
    String t = store.tableName();
    try (Connection c = store.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO "
              + t
              + " (sid, sess, expire) SELECT 'expired-' || g,"
              + " '{\"cookie\":{},\"pgsession\":{\"format\":1,\"version\":1,\"context\":\"/\"}}',"
              + " timezone('UTC', now()) - interval '1 hour' - g * interval '1 ms'"
              + " FROM generate_series(1, "
              + expired
              + ") g");
      s.execute(
          "INSERT INTO "
              + t
              + " (sid, sess, expire) SELECT 'live-' || g, json_build_object('cookie', '{}'::json,"
              + " 'pgsession', json_build_object('format', 1, 'version', 1, 'context', '/',"
              + " 'maxInactive', 7200), 'n', g),"
              + " timezone('UTC', now()) + interval '1 hour' FROM generate_series(1, "
              + LIVE
              + ") g");
      s.execute("ANALYZE " + t);
      s.execute(
          "CREATE TABLE reap_log_"
              + table
              + " (node text, xid bigint, deleted int, started timestamptz,"
              + " ended timestamptz)");
      s.execute(
          "CREATE FUNCTION log_reap_"
              + table
              + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
              + " INSERT INTO reap_log_"
              + table
              + " SELECT current_setting('application_name'),"
              + " txid_current(), count(*), now(), clock_timestamp() FROM gone;"
              + " RETURN NULL; END $$");
      s.execute(
          "CREATE TRIGGER reap_log AFTER DELETE ON "
              + t
              + " REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION log_reap_"
              + table
              + "()");
    }
  }

  /** Both nodes call reap() at the same moment while loader threads load live sessions. */
  private static Reaping reapTogether(PgSessionStore nodeA, PgSessionStore nodeB) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(2 + LOADERS);
    CountDownLatch go = new CountDownLatch(1);
    AtomicBoolean done = new AtomicBoolean();
    ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    List<Future<Integer>> loaders = new ArrayList<>();
    try {
      for (int i = 0; i < LOADERS; i++) {
        loaders.add(threads.submit(() -> loadUntil(nodeB, done, latencies)));
      }
      Future<Long> a = threads.submit(reapAfter(go, nodeA));
      Future<Long> b = threads.submit(reapAfter(go, nodeB));
      long begin = System.nanoTime();
      go.countDown();
      long resultA = a.get(10, TimeUnit.MINUTES);
      long resultB = b.get(10, TimeUnit.MINUTES);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
      done.set(true);
      int missing = 0;
      for (Future<Integer> loader : loaders) {
        missing += loader.get(1, TimeUnit.MINUTES);
      }
      long[] measured = latencies.stream().mapToLong(Long::longValue).toArray();
      return new Reaping(resultA, resultB, millis, measured, missing);
    } finally {
      done.set(true);
      threads.shutdownNow();
    }
  }

  private static Callable<Long> reapAfter(CountDownLatch go, PgSessionStore node) {
    return () -> {
      go.await();
      return node.reap();
    };
  }

  /** Loads random live sessions until told to stop; returns how many did not load. */
  private static int loadUntil(
      PgSessionStore store, AtomicBoolean done, ConcurrentLinkedQueue<Long> latencies) {
    int missing = 0;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (!done.get() && System.nanoTime() < deadline) {
      long begin = System.nanoTime();
      boolean found = store.load(randomLive()) != null;
      latencies.add(System.nanoTime() - begin);
      missing += found ? 0 : 1;
    }
    return missing;
  }

  private static long[] loadLatencies(PgSessionStore store, int loads) {
    long[] nanos = new long[loads];
    for (int i = 0; i < loads; i++) {
      long begin = System.nanoTime();
      assertThat(store.load(randomLive())).isNotNull();
      nanos[i] = System.nanoTime() - begin;
    }
    return nanos;
  }

  private static String randomLive() {
    return "live-" + (1 + ThreadLocalRandom.current().nextInt(LIVE));
  }

  /** The same loader threads as during reaping, each doing a fixed number of loads. */
  private static long[] loadLatenciesOnLoaders(PgSessionStore store) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(LOADERS);
    try {
      List<Future<long[]>> runs = new ArrayList<>();
      for (int i = 0; i < LOADERS; i++) {
        runs.add(threads.submit(() -> loadLatencies(store, BASELINE_LOADS_PER_LOADER)));
      }
      long[] all = new long[0];
      for (Future<long[]> run : runs) {
        long[] part = run.get(5, TimeUnit.MINUTES);
        int at = all.length;
        all = Arrays.copyOf(all, at + part.length);
        System.arraycopy(part, 0, all, at, part.length);
      }
      return all;
    } finally {
      threads.shutdownNow();
    }
  }

  private static long percentileMicros(long[] nanos, double fraction) {
    if (nanos.length == 0) {
      return -1;
    }
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    int index = (int) Math.min(sorted.length - 1, Math.ceil(sorted.length * fraction) - 1);
    return sorted[Math.max(0, index)] / 1000;
  }

  private static List<Batch> batches(PgSessionStore store, String table) throws SQLException {
    List<Batch> batches = new ArrayList<>();
    try (Connection c = store.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT node, xid, deleted, started, ended FROM reap_log_"
                    + table
                    + " WHERE deleted > 0"
                    + " ORDER BY started, ended")) {
      while (rs.next()) {
        batches.add(
            new Batch(
                rs.getString(1),
                rs.getLong(2),
                rs.getInt(3),
                rs.getTimestamp(4),
                rs.getTimestamp(5)));
      }
    }
    return batches;
  }

  /** Pairs of consecutive batches where the later began before the earlier one ended. */
  private static List<String> overlaps(List<Batch> batches) {
    List<String> overlaps = new ArrayList<>();
    for (int i = 1; i < batches.size(); i++) {
      Batch before = batches.get(i - 1);
      Batch after = batches.get(i);
      if (!after.started().after(before.ended())) {
        overlaps.add(before + " / " + after);
      }
    }
    return overlaps;
  }

  private static long count(PgSessionStore store, String table, String where) throws SQLException {
    try (Connection c = store.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table + " WHERE " + where)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** One delete statement of the reaper, as the trigger logged it. */
  record Batch(String node, long xid, int deleted, Timestamp started, Timestamp ended) {}

  record Reaping(long resultA, long resultB, long millis, long[] latencies, int missingLive) {}
}
