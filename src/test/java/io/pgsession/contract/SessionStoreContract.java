package io.pgsession.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.contract.ContractTypes.Cart;
import io.pgsession.contract.ContractTypes.Color;
import io.pgsession.contract.ContractTypes.Item;
import io.pgsession.contract.ContractTypes.Profile;
import io.pgsession.testing.PostgresExtension;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The behaviour every pgsession adapter promises, run against a real PostgreSQL. An adapter's test
 * extends this class and says how to build its {@link ContractSubject}.
 */
public abstract class SessionStoreContract {
  @RegisterExtension protected static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static final String TABLE = "\"session\"";

  protected ContractSubject subject;

  /** A subject over {@code dataSource} using {@code config}. */
  protected abstract ContractSubject newSubject(DataSource dataSource, PgSessionConfig config);

  protected static PgSessionConfig config() {
    return PgSessionConfig.builder().allowPackages("io.pgsession.contract").build();
  }

  /**
   * The data source the subject works through; the test database by default. A subclass may route
   * it elsewhere, through a connection pooler for instance. The suite's own checks of the table
   * always go straight to the database.
   */
  protected DataSource subjectDataSource() {
    return pg.dataSource();
  }

  /** A data source of its own for a second subject, opened in the JVM's current time zone. */
  protected DataSource newSubjectDataSource() {
    return pg.newDataSource();
  }

  @BeforeEach
  void openSubject() {
    subject = newSubject(subjectDataSource(), config());
  }

  @AfterEach
  void closeSubject() {
    // null when openSubject was skipped by an assumption (a missing pooler, for instance)
    if (subject != null) {
      subject.close();
    }
  }

  protected static String newId() {
    return "contract" + IDS.incrementAndGet() + "x" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void everySupportedValueComesBackEqualAndOfTheSameClass() {
    String id = newId();
    Map<String, Object> values = supportedValues();

    subject.create(id, values, 1800);
    Map<String, Object> loaded = subject.load(id);

    assertThat(loaded).isNotNull();
    assertThat(loaded.keySet()).containsExactlyInAnyOrderElementsOf(values.keySet());
    for (Map.Entry<String, Object> e : values.entrySet()) {
      Object back = loaded.get(e.getKey());
      assertThat(back).as(e.getKey()).isNotNull();
      assertThat(back.getClass()).as(e.getKey()).isEqualTo(e.getValue().getClass());
      if (back.getClass().isArray()) {
        assertThat(Arrays.deepEquals(new Object[] {back}, new Object[] {e.getValue()}))
            .as(e.getKey())
            .isTrue();
      } else {
        assertThat(back).as(e.getKey()).isEqualTo(e.getValue());
      }
    }
  }

  @Test
  void orderedCollectionsKeepTheirOrder() {
    String id = newId();
    LinkedHashMap<String, Object> map = new LinkedHashMap<>();
    map.put("z", 1);
    map.put("a", 2);
    map.put("m", 3);
    LinkedHashSet<String> set = new LinkedHashSet<>(List.of("q", "b", "x"));

    subject.create(
        id, Map.of("map", map, "set", set, "list", new ArrayList<>(List.of(3, 1, 2))), 60);
    Map<String, Object> loaded = subject.load(id);

    assertThat(new ArrayList<Object>(((Map<?, ?>) loaded.get("map")).keySet()))
        .containsExactly("z", "a", "m");
    assertThat(new ArrayList<Object>((Set<?>) loaded.get("set"))).containsExactly("q", "b", "x");
    assertThat(new ArrayList<Object>((List<?>) loaded.get("list"))).containsExactly(3, 1, 2);
  }

  @Test
  void unknownIdLoadsAsNoSession() {
    assertThat(subject.load(newId())).isNull();
    assertThat(subject.exists(newId())).isFalse();
  }

  @Test
  void updateChangesOneAttributeAndKeepsTheOthers() {
    String id = newId();
    subject.create(id, Map.of("a", "one", "b", 2L), 1800);

    subject.update(id, Map.of("a", "uno"), Set.of());

    assertThat(subject.load(id)).containsExactlyInAnyOrderEntriesOf(Map.of("a", "uno", "b", 2L));
  }

  @Test
  void removedAttributeIsGoneAfterTheSave() {
    String id = newId();
    subject.create(id, Map.of("a", "one", "b", "two"), 1800);

    subject.update(id, Map.of(), Set.of("b"));

    assertThat(subject.load(id)).containsOnlyKeys("a");
  }

  @Test
  void invalidatedSessionIsGoneFromTheTable() throws SQLException {
    String id = newId();
    subject.create(id, Map.of("a", 1), 1800);

    subject.invalidate(id);

    assertThat(subject.load(id)).isNull();
    assertThat(subject.exists(id)).isFalse();
    assertThat(rowCount(subject.sid(id))).isZero();
  }

  @Test
  void expiredSessionNeitherExistsNorLoads() throws SQLException {
    String id = newId();
    subject.create(id, Map.of("a", 1), 1800);

    sql(
        "UPDATE " + TABLE + " SET expire = expire - interval '2 hours' WHERE sid = ?",
        subject.sid(id));

    assertThat(subject.exists(id)).isFalse();
    assertThat(subject.load(id)).isNull();
  }

  @Test
  void changedIdKeepsTheDataAndFreesTheOldId() {
    String id = newId();
    String renamed = newId();
    subject.create(id, Map.of("user", "ann", "n", 5L), 1800);

    subject.changeId(id, renamed);

    assertThat(subject.load(renamed))
        .containsExactlyInAnyOrderEntriesOf(Map.of("user", "ann", "n", 5L));
    assertThat(subject.load(id)).isNull();
  }

  @Test
  void attributesCanBeReadWithPlainSql() throws SQLException {
    String id = newId();
    subject.create(id, Map.of("user", "ann", "visits", 7L, "cart", List.of()), 1800);

    String user =
        queryString("SELECT sess->>'user' FROM " + TABLE + " WHERE sid = ?", subject.sid(id));
    String visits =
        queryString(
            "SELECT sess->'visits'->>'v' FROM " + TABLE + " WHERE sid = ?", subject.sid(id));
    String maxAge =
        queryString(
            "SELECT sess->'cookie'->>'originalMaxAge' FROM " + TABLE + " WHERE sid = ?",
            subject.sid(id));

    assertThat(user).isEqualTo("ann");
    assertThat(visits).isEqualTo("7");
    assertThat(maxAge).isEqualTo("1800000");
  }

  @Test
  void expireIsUtcServerTimeWhateverTheJvmTimeZone() throws SQLException {
    TimeZone original = TimeZone.getDefault();
    String id = newId();
    TimeZone.setDefault(TimeZone.getTimeZone("Pacific/Kiritimati"));
    try (ContractSubject farAway = newSubject(newSubjectDataSource(), config())) {
      farAway.create(id, Map.of("a", 1), 3600);
    } finally {
      TimeZone.setDefault(original);
    }

    double secondsLeft =
        queryDouble(
            "SELECT extract(epoch FROM expire - timezone('UTC', now())) FROM "
                + TABLE
                + " WHERE sid = ?",
            subject.sid(id));

    assertThat(secondsLeft).isBetween(3600.0 - 60, 3600.0 + 1);
  }

  @Test
  void sessionThatNeverExpiresIsStoredAsInfinity() throws SQLException {
    String id = newId();

    subject.create(id, Map.of("a", 1), -1);

    assertThat(queryString("SELECT expire::text FROM " + TABLE + " WHERE sid = ?", subject.sid(id)))
        .isEqualTo("infinity");
    assertThat(subject.exists(id)).isTrue();
  }

  @Test
  void unreadableRowIsTreatedAsNoSessionAndLeftAsItWas() throws SQLException {
    String id = newId();
    subject.create(id, Map.of("a", 1), 1800);
    String broken = "{\"cookie\":{},\"x\":{\"@t\":\"com.example.Gadget\",\"v\":{}}}";
    sql("UPDATE " + TABLE + " SET sess = '" + broken + "'::json WHERE sid = ?", subject.sid(id));

    Map<String, Object> loaded = subject.load(id);

    assertThat(loaded).isNull();
    assertThat(queryString("SELECT sess::text FROM " + TABLE + " WHERE sid = ?", subject.sid(id)))
        .isEqualTo(broken);
  }

  @Test
  void attributesNamedLikeReservedKeysRoundTrip() {
    String id = newId();
    Map<String, Object> values = Map.of("cookie", "c", "pgsession", 1, "~tilde", "t", "", "empty");

    subject.create(id, values, 1800);

    assertThat(subject.load(id)).containsExactlyInAnyOrderEntriesOf(values);
  }

  @Test
  void readOnlyAccessInsideTheTouchWindowChangesNothingStored() throws SQLException {
    String id = newId();
    subject.create(id, Map.of("a", 1), 1800);
    String before =
        queryString(
            "SELECT sess::text || expire::text FROM " + TABLE + " WHERE sid = ?", subject.sid(id));

    subject.access(id);

    assertThat(
            queryString(
                "SELECT sess::text || expire::text FROM " + TABLE + " WHERE sid = ?",
                subject.sid(id)))
        .isEqualTo(before);
  }

  @Test
  void readOnlyAccessAfterTheTouchWindowMovesExpireLater() throws SQLException {
    String id = newId();
    subject.create(id, Map.of("a", 1), 1800);
    sql(
        "UPDATE " + TABLE + " SET expire = expire - interval '10 minutes' WHERE sid = ?",
        subject.sid(id));

    subject.access(id);

    double secondsLeft =
        queryDouble(
            "SELECT extract(epoch FROM expire - timezone('UTC', now())) FROM "
                + TABLE
                + " WHERE sid = ?",
            subject.sid(id));
    assertThat(secondsLeft).isGreaterThan(1800 - 60);
  }

  protected static Map<String, Object> supportedValues() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("string", "grüße 👋 \"quoted\" \\ \n");
    v.put("boolean", true);
    v.put("int", 42);
    v.put("long", 42L);
    v.put("bigLong", Long.MAX_VALUE);
    v.put("short", (short) 7);
    v.put("byte", (byte) -3);
    v.put("char", 'x');
    v.put("float", 1.1f);
    v.put("double", 0.1);
    v.put("nan", Double.NaN);
    v.put("bigDecimal", new BigDecimal("12.3400"));
    v.put("bigInteger", new BigInteger("123456789012345678901234567890"));
    v.put("uuid", UUID.fromString("123e4567-e89b-12d3-a456-426614174000"));
    v.put("date", new Date(1_700_000_000_123L));
    v.put("instant", Instant.ofEpochSecond(1_700_000_000L, 123_456_789));
    v.put("localDate", LocalDate.of(2026, 12, 4));
    v.put("localDateTime", LocalDateTime.of(2026, 12, 4, 17, 30, 1, 5));
    v.put("zoned", ZonedDateTime.parse("2026-12-04T17:30:00+01:00[Europe/Paris]"));
    v.put("duration", Duration.ofMinutes(90));
    v.put("enum", Color.RED);
    v.put("enumWithBody", Color.GREEN);
    v.put("list", new ArrayList<>(List.of("a", "b")));
    v.put("listOf", List.of(1L, 2L, 3L));
    v.put("hashSet", new java.util.HashSet<>(Set.of("x", "y")));
    v.put("hashMap", new HashMap<>(Map.of("k", 1)));
    v.put("treeMap", new TreeMap<>(Map.of(2, "two", 1, "one")));
    v.put("bytes", new byte[] {1, 2, 3});
    v.put("ints", new int[] {1, 2, 3});
    v.put("strings", new String[] {"a", null, "c"});
    v.put(
        "record",
        new Cart("ann", List.of(new Item("sku-1", 2, new BigDecimal("9.99"))), Color.GREEN, 5L));
    v.put("bean", new Profile("bob", 9L, new ArrayList<>(List.of("admin"))));
    return v;
  }

  protected static void sql(String statement, String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(statement)) {
      ps.setString(1, sid);
      ps.executeUpdate();
    }
  }

  protected static String queryString(String query, String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(query)) {
      ps.setString(1, sid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  protected static double queryDouble(String query, String sid) throws SQLException {
    return Double.parseDouble(queryString(query, sid));
  }

  protected static long rowCount(String sid) throws SQLException {
    return Long.parseLong(queryString("SELECT count(*) FROM " + TABLE + " WHERE sid = ?", sid));
  }
}
