package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.zone.ZoneOffsetTransition;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The store reads {@code expire} as the local time it is and turns it into an instant in Java. It
 * must give exactly what PostgreSQL's own {@code expire AT TIME ZONE zone} gives, in milliseconds,
 * for every stored value: times a zone's clocks skip or pass twice, half milliseconds, the
 * infinities, and whether pgjdbc received the column as text or in binary.
 */
class ExpireColumnTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final DateTimeFormatter LOCAL =
      DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS");
  private static final List<String> ZONES =
      List.of(
          "UTC",
          "America/New_York",
          "Europe/Berlin",
          "Pacific/Kiritimati",
          "Australia/Lord_Howe",
          "America/Santiago",
          "Asia/Kolkata");

  @BeforeAll
  static void fillProbes() throws SQLException {
    List<String> values = new ArrayList<>();
    values.add("infinity");
    values.add("-infinity");
    // Half milliseconds on both sides of the epoch, where rounding direction shows.
    values.add("2030-01-01 00:00:00.0005");
    values.add("2030-01-01 00:00:00.0015");
    values.add("2030-01-01 00:00:00.000499");
    values.add("1969-12-31 23:59:59.9995");
    values.add("1969-12-31 23:59:59.9985");
    values.add("1969-12-31 23:59:59.999501");
    Random random = new Random(20261204);
    long from = LocalDateTime.of(1971, 1, 1, 0, 0).toEpochSecond(java.time.ZoneOffset.UTC);
    long to = LocalDateTime.of(2100, 1, 1, 0, 0).toEpochSecond(java.time.ZoneOffset.UTC);
    for (int i = 0; i < 2000; i++) {
      long second = from + (long) (random.nextDouble() * (to - from));
      LocalDateTime t =
          LocalDateTime.ofEpochSecond(
              second, random.nextInt(1_000_000) * 1000, java.time.ZoneOffset.UTC);
      values.add(LOCAL.format(t));
    }
    // Around every clock change from 2000 to 2040: the moments before and after, and inside the
    // hour (or half hour) that is skipped or passed twice.
    for (String zone : ZONES) {
      var rules = ZoneId.of(zone).getRules();
      ZoneOffsetTransition t =
          rules.nextTransition(
              LocalDateTime.of(2000, 1, 1, 0, 0).toInstant(java.time.ZoneOffset.UTC));
      while (t != null && t.getDateTimeBefore().getYear() < 2040) {
        for (LocalDateTime edge : List.of(t.getDateTimeBefore(), t.getDateTimeAfter())) {
          for (long micros : new long[] {-1, 0, 1, 900_000_000L, 1_799_999_999L, -1_800_000_000L}) {
            values.add(LOCAL.format(edge.plusNanos(micros * 1000)));
          }
        }
        t = rules.nextTransition(t.getInstant());
      }
    }
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE probe (id int PRIMARY KEY, local timestamp(6) NOT NULL)");
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO probe VALUES (?, ?::timestamp(6))")) {
        for (int i = 0; i < values.size(); i++) {
          ps.setInt(1, i);
          ps.setString(2, values.get(i));
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
  }

  @ParameterizedTest(name = "pgjdbc prepareThreshold={0}")
  @CsvSource({"0", "-1"})
  void everyStoredValueReadsAsTheServerConvertsIt(int prepareThreshold) throws SQLException {
    // prepareThreshold=0 has pgjdbc receive text; -1 has it ask for binary from the first use.
    Properties props = new Properties();
    props.setProperty("user", pg.server().user());
    props.setProperty("password", pg.server().password());
    props.setProperty("prepareThreshold", Integer.toString(prepareThreshold));
    int compared = 0;
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), props)) {
      for (String zone : ZONES) {
        SessionTable table = new SessionTable(PgSessionConfig.builder().expireZone(zone).build());
        try (PreparedStatement ps =
                c.prepareStatement(
                    "SELECT id, local, local::text, CASE WHEN local = 'infinity' THEN 0"
                        + " WHEN local = '-infinity' THEN 1 ELSE"
                        + " (extract(epoch FROM local AT TIME ZONE ?) * 1000)::bigint END"
                        + " FROM probe ORDER BY id");
            ResultSet rs = bind(ps, zone).executeQuery()) {
          while (rs.next()) {
            long expected = rs.getLong(4);
            long actual = table.expiryOf(rs, 2);
            assertThat(actual).as("expire '%s' in %s", rs.getString(3), zone).isEqualTo(expected);
            compared++;
          }
        }
      }
    }
    assertThat(compared).isGreaterThan(ZONES.size() * 2000);
  }

  @Test
  void aTimestamptzColumnIsReadAsTheInstantItHolds() throws SQLException {
    SessionTable table =
        new SessionTable(PgSessionConfig.builder().expireZone("Europe/Berlin").build());
    int compared = 0;
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE probe_tz (id int PRIMARY KEY, at timestamptz(6) NOT NULL)");
      s.execute(
          "INSERT INTO probe_tz SELECT i, CASE i WHEN 0 THEN 'infinity' WHEN 1 THEN '-infinity'"
              + " WHEN 2 THEN '2030-01-01 00:00:00.0005+00' WHEN 3 THEN '1969-12-31 23:59:59.9995+00'"
              + " ELSE now() + i * interval '37 minutes 0.000123 seconds' END"
              + " FROM generate_series(0, 500) i");
      for (int round = 0; round < 7; round++) {
        // Seven rounds, so that pgjdbc prepares the statement and switches to binary transfer.
        try (PreparedStatement ps =
                c.prepareStatement(
                    "SELECT id, at, CASE WHEN at = 'infinity' THEN 0 WHEN at = '-infinity' THEN 1"
                        + " ELSE (extract(epoch FROM at) * 1000)::bigint END FROM probe_tz");
            ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            assertThat(table.expiryOf(rs, 2)).as("row %d", rs.getInt(1)).isEqualTo(rs.getLong(3));
            compared++;
          }
        }
      }
    }
    assertThat(compared).isEqualTo(7 * 501);
  }

  @Test
  void aStoreOnATableMadeWithTimestamptzKeepsItsSessionsAndTheirExpiry() throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE tz_session (sid varchar PRIMARY KEY, sess json NOT NULL,"
              + " expire timestamptz(6) NOT NULL)");
      s.execute(
          "INSERT INTO tz_session VALUES ('from-node', '{\"cookie\": {\"originalMaxAge\": 3600000},"
              + " \"user\": \"ann\"}', now() + interval '1 hour')");
    }
    PgSessionStore store =
        new PgSessionStore(
            pg.dataSource(),
            PgSessionConfig.builder().table("tz_session").createTable(false).build(),
            getClass().getClassLoader());

    SessionRecord fromNode = store.load("from-node");
    assertThat(fromNode).isNotNull();
    assertThat(fromNode.attributes()).containsEntry("user", "ann");
    assertThat(fromNode.expiry())
        .isCloseTo(
            System.currentTimeMillis() + 3_600_000L,
            org.assertj.core.api.Assertions.within(60_000L));

    SessionRecord own = new SessionRecord("own", System.currentTimeMillis(), 1800);
    own.attributes().put("visits", 1L);
    store.save(own);
    SessionRecord back = store.load("own");
    assertThat(back).isNotNull();
    assertThat(back.expiry()).isEqualTo(own.expiry());
    assertThat(back.attributes()).isEqualTo(own.attributes());
  }

  private static PreparedStatement bind(PreparedStatement ps, String zone) throws SQLException {
    ps.setString(1, zone);
    return ps;
  }
}
