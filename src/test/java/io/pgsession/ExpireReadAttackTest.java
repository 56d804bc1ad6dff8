package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inputs on which reading {@code expire} in Java must still give what the server's own conversion
 * gives: zone names the configuration accepts, and stored values at the ends of PostgreSQL's range.
 */
class ExpireReadAttackTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  @ParameterizedTest(name = "expireZone={0}")
  @ValueSource(strings = {"UTC+3", "GMT-5", "+03:00", "CET", "EET"})
  void aSessionSavedInAnAcceptedZoneLoadsWithTheExpiryItWasSavedWith(String zone) {
    PgSessionStore store = store(zone, "zone_" + Math.abs(zone.hashCode()));
    // Midsummer, when the zones with clock changes are on summer time.
    long created = Instant.parse("2030-07-01T12:00:00Z").toEpochMilli();
    SessionRecord saved = new SessionRecord("summer", created, 1800);
    saved.attributes().put("user", "ann");
    store.save(saved);

    SessionRecord loaded = store.load("summer");

    assertThat(loaded).isNotNull();
    assertThat(loaded.expiry()).isEqualTo(saved.expiry());
  }

  @Test
  void aFreshSessionInAPosixStyleZoneDoesNotLoadAsAlreadyExpired() {
    PgSessionStore store = store("UTC+3", "posix_fresh");
    SessionRecord saved = new SessionRecord("fresh", System.currentTimeMillis(), 1800);
    store.save(saved);

    SessionRecord loaded = store.load("fresh");

    // The server, which compares expire itself, still counts the session as live.
    assertThat(store.exists("fresh")).isTrue();
    assertThat(loaded).isNotNull();
    assertThat(loaded.expiry()).isGreaterThan(System.currentTimeMillis());
  }

  @Test
  void anExpireNearTheLastTimestampPostgresqlHoldsLoadsAsTheServerConvertsIt() throws SQLException {
    PgSessionStore store = store("UTC", "far_future");
    store.ensureTable();
    long serverMillis;
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      // Another program's "never" written as the last years PostgreSQL's timestamp can hold.
      s.execute(
          "INSERT INTO far_future VALUES ('far', '{\"cookie\": {\"originalMaxAge\": null}}',"
              + " '294247-06-01 00:00:00')");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT (extract(epoch FROM expire AT TIME ZONE 'UTC') * 1000)::bigint"
                  + " FROM far_future WHERE sid = 'far'")) {
        rs.next();
        serverMillis = rs.getLong(1);
      }
    }

    SessionRecord[] loaded = new SessionRecord[1];
    assertThatCode(() -> loaded[0] = store.load("far")).doesNotThrowAnyException();

    assertThat(loaded[0]).isNotNull();
    assertThat(loaded[0].expiry()).isEqualTo(serverMillis);
  }

  @Test
  void theLastInstantATimestamptzHoldsReadsWithoutOverflow() throws SQLException {
    SessionTable table = new SessionTable(PgSessionConfig.builder().build());
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT x, (extract(epoch FROM x) * 1000)::bigint FROM (SELECT"
                    + " '294276-12-31 23:59:59.999999+00'::timestamptz x) q")) {
      rs.next();

      long actual = table.expiryOf(rs, 1);

      assertThat(actual).isEqualTo(rs.getLong(2));
    }
  }

  @ParameterizedTest(name = "expire altered to {0}")
  @ValueSource(strings = {"timestamptz(6)", "timestamp(3)"})
  void aLoadRightAfterTheExpireColumnIsAlteredDoesNotFail(String type) throws SQLException {
    String table = "altered_" + type.replaceAll("[^a-z0-9]", "");
    PgSessionStore store =
        new PgSessionStore(
            pg.newDataSource(),
            PgSessionConfig.builder().table(table).build(),
            getClass().getClassLoader());
    SessionRecord saved = new SessionRecord("kept", System.currentTimeMillis(), 1800);
    store.save(saved);
    // Enough loads for pgjdbc to keep the statement prepared on the server.
    for (int i = 0; i < 10; i++) {
      store.load("kept");
    }
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("ALTER TABLE " + table + " ALTER COLUMN expire TYPE " + type);
    }

    SessionRecord[] loaded = new SessionRecord[1];
    assertThatCode(() -> loaded[0] = store.load("kept")).doesNotThrowAnyException();

    assertThat(loaded[0]).isNotNull();
  }

  @Test
  void aColumnAlteredToTimestamptzAndBackKeepsReadingTheSameExpiry() throws SQLException {
    PgSessionStore store = store("UTC", "there_and_back");
    SessionRecord saved = new SessionRecord("kept", System.currentTimeMillis(), 1800);
    store.save(saved);
    List<Long> seen = new ArrayList<>();
    for (String type : List.of("timestamptz(6)", "timestamp(6)", "timestamptz(6)")) {
      try (Connection c = pg.dataSource().getConnection();
          Statement s = c.createStatement()) {
        s.execute("ALTER TABLE there_and_back ALTER COLUMN expire TYPE " + type);
      }
      for (int i = 0; i < 7; i++) {
        seen.add(store.load("kept").expiry());
      }
    }

    assertThat(seen).hasSize(21).containsOnly(saved.expiry());
  }

  @Test
  void manyThreadsLoadingFromATimestamptzTableAtOnceAllReadTheSameExpiry() throws Exception {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE tz_race (sid varchar PRIMARY KEY, sess json NOT NULL,"
              + " expire timestamptz(6) NOT NULL)");
      s.execute(
          "INSERT INTO tz_race VALUES ('s', '{\"cookie\": {\"originalMaxAge\": 3600000}}',"
              + " '2030-07-01 12:00:00.0005+00')");
    }
    PgSessionStore store =
        new PgSessionStore(
            pg.newDataSource(),
            PgSessionConfig.builder().table("tz_race").createTable(false).build(),
            getClass().getClassLoader());
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<Long>> expiries = new ArrayList<>();
    CountDownLatch start = new CountDownLatch(1);
    for (int i = 0; i < 200; i++) {
      expiries.add(
          pool.submit(
              () -> {
                start.await(10, TimeUnit.SECONDS);
                return store.load("s").expiry();
              }));
    }

    start.countDown();
    Set<Long> distinct = new HashSet<>();
    try {
      for (Future<Long> f : expiries) {
        distinct.add(f.get(30, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(distinct).containsExactly(Instant.parse("2030-07-01T12:00:00.001Z").toEpochMilli());
  }

  @ParameterizedTest(name = "JDBC URL options {0}")
  @ValueSource(
      strings = {"binaryTransfer=false", "prepareThreshold=0", "prepareThreshold=-1", "x=1"})
  void storedValuesOtherProgramsWriteLoadAsTheServerConvertsThem(String options)
      throws SQLException {
    String table = "others_" + Math.abs(options.hashCode());
    String url = pg.jdbcUrl() + (pg.jdbcUrl().contains("?") ? "&" : "?") + options;
    try (var ds = PgDataSources.create(pg.server().settings(url), table)) {
      assertStoredValuesLoadAsTheServerConvertsThem(ds, table);
    }
  }

  private void assertStoredValuesLoadAsTheServerConvertsThem(javax.sql.DataSource ds, String table)
      throws SQLException {
    PgSessionStore store =
        new PgSessionStore(
            ds,
            PgSessionConfig.builder().table(table).expireZone("Asia/Kathmandu").build(),
            getClass().getClassLoader());
    store.ensureTable();
    List<String> expires =
        List.of(
            "'infinity'",
            "'-infinity'",
            "'0044-03-15 12:00:00.0005 BC'",
            "'10000-01-01 00:00:00.0005'",
            "'1969-12-31 23:59:59.9995'",
            "now()",
            "localtimestamp");
    List<Long> server = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("SET TimeZone = 'America/St_Johns'");
      for (int i = 0; i < expires.size(); i++) {
        s.execute(
            "INSERT INTO "
                + table
                + " VALUES ('s"
                + i
                + "', '{\"cookie\": {\"originalMaxAge\": null}}', "
                + expires.get(i)
                + ")");
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT CASE WHEN expire = 'infinity' THEN 0 WHEN expire = '-infinity' THEN 1 ELSE"
                  + " (extract(epoch FROM expire AT TIME ZONE 'Asia/Kathmandu') * 1000)::bigint"
                  + " END FROM "
                  + table
                  + " ORDER BY sid")) {
        while (rs.next()) {
          server.add(rs.getLong(1));
        }
      }
      s.execute("RESET TimeZone");
    }

    List<Long> loaded = new ArrayList<>();
    for (int round = 0; round < 7; round++) {
      loaded.clear();
      for (int i = 0; i < expires.size(); i++) {
        loaded.add(store.load("s" + i).expiry());
      }
    }

    assertThat(loaded).isEqualTo(server);
  }

  private PgSessionStore store(String zone, String table) {
    return new PgSessionStore(
        pg.dataSource(),
        PgSessionConfig.builder().expireZone(zone).table(table).build(),
        getClass().getClassLoader());
  }
}
