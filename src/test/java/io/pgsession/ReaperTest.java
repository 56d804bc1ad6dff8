package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pgsession.testing.CountingDataSource;
import io.pgsession.testing.PostgresExtension;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** Removal of long-expired rows: batches, the cluster-wide lock, and the background task. */
class ReaperTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final PgSessionConfig CONFIG =
      PgSessionConfig.builder()
          .table("reaped")
          .reaperBatchSize(1000)
          .reaperGrace(Duration.ofMinutes(10))
          .reaperInterval(Duration.ofMillis(50))
          .build();

  private PgSessionStore store;

  @BeforeEach
  void emptyTable() {
    store = new PgSessionStore(pg.dataSource(), CONFIG, getClass().getClassLoader());
    store.ensureTable();
    Sql.update(pg.dataSource(), "TRUNCATE reaped");
  }

  @Test
  void rowsExpiredLongerThanTheGraceAreDeletedInBatches() {
    insertRows("old", 2_500, "- interval '1 hour'");
    insertRows("recent", 10, "- interval '1 minute'");
    insertRows("live", 10, "+ interval '1 hour'");
    CountingDataSource counting = CountingDataSource.wrap(pg.dataSource());
    PgSessionStore counted =
        new PgSessionStore(counting.dataSource(), CONFIG, getClass().getClassLoader());

    long deleted = counted.reap();

    assertThat(deleted).isEqualTo(2_500);
    assertThat(counting.statements()).filteredOn(s -> s.startsWith("DELETE")).hasSize(3);
    assertThat(count("old")).isZero();
    assertThat(count("recent")).isEqualTo(10);
    assertThat(count("live")).isEqualTo(10);
  }

  @Test
  void reapWhileAnotherNodeHoldsTheLockDeletesNothingAndSaysSo() throws SQLException {
    insertRows("old", 5, "- interval '1 hour'");

    try (Connection other = pg.newDataSource().getConnection()) {
      other.setAutoCommit(false);
      assertThat(tryLock(other, new SessionTable(CONFIG).reaperLockKey)).isTrue();

      long deleted = store.reap();

      assertThat(deleted).isEqualTo(-1);
      assertThat(count("old")).isEqualTo(5);
      other.rollback();
    }
  }

  @Test
  void reaperKeepsRunningAfterAFailedRunAndLogsTheFailure() {
    ListAppender<ILoggingEvent> log = capture(SessionReaper.class);
    insertRows("old", 3, "- interval '1 hour'");
    AtomicInteger connections = new AtomicInteger();
    PgSessionStore flaky =
        new PgSessionStore(failingFirst(connections, pg.dataSource()), CONFIG, loader());
    ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);

    SessionReaper reaper = SessionReaper.start(flaky, scheduler);
    try {
      awaitTrue(() -> count("old") == 0);
    } finally {
      reaper.close();
      scheduler.shutdownNow();
      ((Logger) LoggerFactory.getLogger(SessionReaper.class)).detachAppender(log);
    }

    assertThat(log.list)
        .anySatisfy(
            e -> {
              assertThat(e.getLevel()).isEqualTo(Level.WARN);
              assertThat(e.getThrowableProxy()).isNotNull();
            });
  }

  @Test
  void closeStopsTheReaperButLeavesAGivenSchedulerRunning() throws Exception {
    AtomicInteger connections = new AtomicInteger();
    PgSessionStore counted =
        new PgSessionStore(countingConnections(connections, pg.dataSource()), CONFIG, loader());
    ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    try {
      SessionReaper reaper = SessionReaper.start(counted, scheduler);
      awaitTrue(() -> connections.get() >= 2);

      reaper.close();
      int afterClose = connections.get();
      // Ten intervals later, on the same single thread, no run has come in between.
      scheduler.schedule(() -> {}, 500, TimeUnit.MILLISECONDS).get(5, TimeUnit.SECONDS);

      assertThat(scheduler.isShutdown()).isFalse();
      assertThat(connections.get()).isLessThanOrEqualTo(afterClose + 1);
    } finally {
      scheduler.shutdownNow();
    }
  }

  @Test
  void reaperWithItsOwnThreadStopsItOnClose() {
    SessionReaper reaper = SessionReaper.start(store);
    awaitTrue(() -> reaperThreadAlive(true));

    reaper.close();

    awaitTrue(() -> reaperThreadAlive(false));
  }

  @Test
  void zeroIntervalSchedulesNothing() {
    PgSessionConfig off = CONFIG.toBuilder().reaperInterval(Duration.ZERO).build();
    ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    try {
      SessionReaper.start(new PgSessionStore(pg.dataSource(), off, loader()), scheduler).close();

      assertThat(scheduler.getQueue()).isEmpty();
      assertThat(scheduler.getCompletedTaskCount()).isZero();
    } finally {
      scheduler.shutdownNow();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static ClassLoader loader() {
    return ReaperTest.class.getClassLoader();
  }

  @Test
  void aReapWhoseConnectionIsCutReportsTheServersReason() throws Exception {
    insertRows("cut", 3, "- interval '1 hour'");
    // The reap's DELETE waits for the table; its backend is ended as by an administrator or a
    // server shutdown.
    Throwable failure =
        CutConnection.whileWaiting(pg.dataSource(), "reaped", "DELETE", store::reap);

    // The database's reason, not the failed rollback on the connection it closed.
    assertThat(failure)
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("pgsession reap failed: cannot reach the database")
        .hasMessageContaining("terminating connection due to administrator command");
    assertThat(((PgSessionException) failure).sqlState()).isEqualTo("57P01");
    assertThat(count("cut")).isEqualTo(3);
    assertThat(store.reap()).isEqualTo(3);
  }

  private static void insertRows(String prefix, int rows, String expireOffset) {
    Sql.update(
        pg.dataSource(),
        "INSERT INTO reaped SELECT ? || '-' || g, '{}', timezone('UTC', now()) "
            + expireOffset
            + " FROM generate_series(1, ?) g",
        prefix,
        rows);
  }

  private static long count(String prefix) {
    return Sql.number(
        pg.dataSource(), "SELECT count(*) FROM reaped WHERE sid LIKE ?", prefix + "-%");
  }

  private static boolean tryLock(Connection c, long key) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_xact_lock(?)")) {
      ps.setLong(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private static boolean reaperThreadAlive(boolean expected) {
    boolean alive =
        Thread.getAllStackTraces().keySet().stream()
            .anyMatch(t -> t.getName().startsWith("pgsession-reaper \"reaped\"") && t.isAlive());
    return alive == expected;
  }

  private static ListAppender<ILoggingEvent> capture(Class<?> type) {
    Logger logger = (Logger) LoggerFactory.getLogger(type);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    return appender;
  }

  /** Polls until the condition holds, failing after ten seconds. */
  private static void awaitTrue(BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition not met in time").isLessThan(deadline);
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** A data source whose first connection request fails. */
  private static DataSource failingFirst(AtomicInteger calls, DataSource real) {
    return intercept(
        real,
        () -> {
          if (calls.incrementAndGet() == 1) {
            throw new SQLException("the test's database refuses this connection", "08006");
          }
        });
  }

  private static DataSource countingConnections(AtomicInteger calls, DataSource real) {
    return intercept(real, calls::incrementAndGet);
  }

  @FunctionalInterface
  private interface BeforeConnect {
    void run() throws SQLException;
  }

  private static DataSource intercept(DataSource real, BeforeConnect before) {
    return (DataSource)
        Proxy.newProxyInstance(
            ReaperTest.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection")) {
                before.run();
              }
              try {
                return method.invoke(real, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
