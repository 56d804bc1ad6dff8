package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
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

  private PgSessionStore store(String zone, String table) {
    return new PgSessionStore(
        pg.dataSource(),
        PgSessionConfig.builder().expireZone(zone).table(table).build(),
        getClass().getClassLoader());
  }
}
