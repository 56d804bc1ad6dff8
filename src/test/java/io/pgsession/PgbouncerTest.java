package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.testing.Pgbouncer;
import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The store behind pgbouncer in transaction pooling mode: the reaper's one-node-at-a-time lock
 * still holds, and concurrent requests over several client connections, whose transactions land on
 * any server connection, work with the documented driver settings.
 */
class PgbouncerTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static Pgbouncer bouncer;
  private static final List<HikariDataSource> pools = new ArrayList<>();

  @BeforeAll
  static void startPgbouncer() {
    if (Pgbouncer.isInstalled()) {
      bouncer = Pgbouncer.start(pg.server());
    }
  }

  @BeforeEach
  void requirePgbouncer() {
    Pgbouncer.assumeInstalled();
  }

  @AfterAll
  static void stopPgbouncer() {
    pools.forEach(HikariDataSource::close);
    if (bouncer != null) {
      bouncer.close();
    }
  }

  @Test
  void whileOneNodeHoldsTheReaperLockTheOthersReapReturnsMinusOne() throws SQLException {
    PgSessionStore first = store(node("first"));
    PgSessionStore second = store(node("second"));
    expiredSessions(second, 3);
    long lockKey = new SessionTable(first.config()).reaperLockKey;

    long whileHeld;
    try (Connection c = first.dataSource().getConnection()) {
      c.setAutoCommit(false);
      assertThat(tryLock(c, lockKey)).isTrue();
      whileHeld = second.reap();
      c.commit();
    }
    long afterCommit = second.reap();

    assertThat(whileHeld).isEqualTo(-1);
    assertThat(afterCommit).isEqualTo(3);
  }

  @Test
  void twoNodesReapingAtOnceDeleteEachExpiredRowExactlyOnce() throws Exception {
    PgSessionStore first = store(node("first"));
    PgSessionStore second = store(node("second"));
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 20; round++) {
        expiredSessions(first, 5);
        Future<Long> a = threads.submit(first::reap);
        Future<Long> b = threads.submit(second::reap);

        long deletedA = a.get(30, TimeUnit.SECONDS);
        long deletedB = b.get(30, TimeUnit.SECONDS);

        assertThat(Math.max(deletedA, 0) + Math.max(deletedB, 0)).as("round " + round).isEqualTo(5);
      }
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void concurrentRequestsOverManyClientConnectionsWorkWithTheDocumentedSettings() throws Exception {
    PgSessionStore store = store(node("busy"));
    int threads = 4;
    int rounds = 60;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<Integer>> results = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        String prefix = "busy" + t + "-";
        results.add(pool.submit(() -> saveLoadAndTouch(store, prefix, rounds)));
      }
      for (Future<Integer> f : results) {
        assertThat(f.get(2, TimeUnit.MINUTES)).isEqualTo(rounds);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static int saveLoadAndTouch(PgSessionStore store, String prefix, int rounds) {
    int ok = 0;
    for (int i = 0; i < rounds; i++) {
      String sid = prefix + i;
      SessionRecord r = new SessionRecord(sid, System.currentTimeMillis(), 1800);
      r.attributes().put("n", (long) i);
      store.save(r);
      SessionRecord back = store.load(sid);
      back.attributes().put("m", i);
      store.save(back);
      if (store.exists(sid) && store.load(sid).attributes().get("m").equals(i)) {
        ok++;
      }
    }
    return ok;
  }

  private static HikariDataSource node(String name) {
    HikariDataSource ds =
        io.pgsession.PgDataSources.create(
            pg.server().settings(bouncer.jdbcUrlFor(pg.jdbcUrl())), "pgbouncer-" + name);
    pools.add(ds);
    return ds;
  }

  private static PgSessionStore store(HikariDataSource ds) {
    PgSessionConfig config =
        PgSessionConfig.builder().reaperGrace(java.time.Duration.ZERO).reaperBatchSize(2).build();
    return new PgSessionStore(ds, config, PgbouncerTest.class.getClassLoader());
  }

  private static void expiredSessions(PgSessionStore store, int count) {
    long past = System.currentTimeMillis() - 60_000;
    for (int i = 0; i < count; i++) {
      SessionRecord r =
          new SessionRecord("expired-" + java.util.UUID.randomUUID(), past - 1_000_000, 60);
      r.expiry(past);
      store.save(r);
    }
  }

  private static boolean tryLock(Connection c, long key) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_try_advisory_xact_lock(" + key + ")")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }
}
