package io.pgsession.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import io.pgsession.interop.NodeApp.NodeSession;
import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * pgsession and a real Express application (express-session with connect-pg-simple, from npm) on
 * one session table at the same time.
 *
 * <p>Time zones matter because {@code expire} is a timestamp without time zone: connect-pg-simple
 * writes and compares it as {@code to_timestamp(...)} cast in its connection's zone, which for
 * node-postgres is the database's {@code TimeZone} setting, while pgjdbc sets every connection's
 * zone to the JVM's. pgsession therefore writes the column in {@code expireZone}, which must name
 * the database's zone. Each party below runs in a different zone, far apart.
 */
class ConnectPgSimpleSharingTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final long MINUTE = 60_000L;
  private static final long HOUR = 60 * MINUTE;

  private final List<AutoCloseable> resources = new ArrayList<>();
  private TimeZone originalZone;

  /** The zones of the JVM, of the Node process and of the database (its TimeZone setting). */
  record Zones(String jvm, String node, String database) {}

  /** A Java store and the Node application on one fresh database. */
  private record Shared(String jdbcUrl, PgSessionStore java, NodeApp node) {}

  static Stream<Zones> farApartZones() {
    return Stream.of(
        new Zones("Pacific/Kiritimati", "America/Adak", "UTC"),
        new Zones("America/Adak", "Pacific/Kiritimati", "Asia/Kathmandu"),
        new Zones("Asia/Kathmandu", "UTC", "Pacific/Kiritimati"),
        new Zones("UTC", "Asia/Kathmandu", "America/Adak"));
  }

  @BeforeEach
  void nodeIsInstalled() {
    NodeApp.assumeNodeAvailable();
    NodeApp.installDependencies();
  }

  @BeforeEach
  void rememberZone() {
    originalZone = TimeZone.getDefault();
  }

  @AfterEach
  void closeAndRestoreZone() throws Exception {
    Collections.reverse(resources);
    for (AutoCloseable r : resources) {
      r.close();
    }
    TimeZone.setDefault(originalZone);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("farApartZones")
  void expireAgreesWithinASecondWhateverTheZones(Zones zones) throws SQLException {
    Shared s = shared(zones, zones.database());
    long javaExpiry = System.currentTimeMillis() + 30 * MINUTE + 123;
    String javaSid = saveJavaSession(s.java(), Map.of("user", "ann"), javaExpiry);

    NodeSession fromNode = s.node().create(Map.of("user", "bob"), HOUR);
    SessionRecord nodeSeenByJava = s.java().load(fromNode.sid());

    assertThat(javaConnectionZone(s)).isEqualTo(zones.jvm());
    assertThat(s.node().expireMillis(javaSid)).isCloseTo(javaExpiry, within(1000L));
    assertThat(nodeSeenByJava).isNotNull();
    assertThat(nodeSeenByJava.expiry())
        .isCloseTo(Instant.parse(fromNode.expires()).toEpochMilli(), within(1000L));
    assertThat(s.node().find(javaSid)).isNotNull();
    assertThat(s.java().exists(fromNode.sid())).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("farApartZones")
  void eachSideSeesTheOthersExpiredSessionAsGone(Zones zones) throws SQLException {
    Shared s = shared(zones, zones.database());
    String javaSid =
        saveJavaSession(s.java(), Map.of("user", "ann"), System.currentTimeMillis() - 5 * MINUTE);
    NodeSession fromNode = s.node().create(Map.of("user", "bob"), HOUR);

    sql(s, "UPDATE session SET expire = expire - interval '2 hours' WHERE sid = ?", fromNode.sid());

    assertThat(s.node().find(javaSid)).isNull();
    assertThat(s.java().exists(fromNode.sid())).isFalse();
  }

  @Test
  void sessionWrittenByNodeIsReadByJavaWithPlainJsonTypes() {
    Shared s = shared(new Zones("Pacific/Kiritimati", "America/Adak", "UTC"), "UTC");
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("user", "ann");
    attributes.put("visits", 7);
    attributes.put("admin", true);
    attributes.put("ratio", 1.5);
    attributes.put("tags", List.of("a", "b"));
    attributes.put("prefs", Map.of("theme", "dark", "size", 12));

    NodeSession written = s.node().create(attributes, HOUR);
    SessionRecord read = s.java().load(written.sid());

    assertThat(read).isNotNull();
    assertThat(read.maxInactiveSeconds()).isEqualTo(3600);
    assertThat(read.attributes()).containsOnlyKeys(attributes.keySet());
    assertThat(read.attributes().get("user")).isEqualTo("ann");
    assertThat(read.attributes().get("visits")).isEqualTo(7);
    assertThat(read.attributes().get("admin")).isEqualTo(true);
    assertThat(read.attributes().get("ratio")).isEqualTo(1.5);
    assertThat(read.attributes().get("tags"))
        .isInstanceOf(ArrayList.class)
        .isEqualTo(List.of("a", "b"));
    assertThat(read.attributes().get("prefs"))
        .isInstanceOf(LinkedHashMap.class)
        .isEqualTo(Map.of("theme", "dark", "size", 12));
  }

  @Test
  void javaCanChangeASessionNodeWroteAndNodeReadsTheChange() {
    Shared s = shared(new Zones("America/Adak", "Pacific/Kiritimati", "UTC"), "UTC");
    NodeSession written = s.node().create(Map.of("user", "ann", "visits", 1), HOUR);

    SessionRecord record = s.java().load(written.sid());
    record.attributes().put("visits", 2);
    record.attributes().put("fromJava", "hello");
    s.java().save(record);
    NodeSession reread = s.node().find(written.sid());

    assertThat(reread).isNotNull();
    assertThat(reread.attributes().get("user").asText()).isEqualTo("ann");
    assertThat(reread.attributes().get("visits").asInt()).isEqualTo(2);
    assertThat(reread.attributes().get("fromJava").asText()).isEqualTo("hello");
  }

  @Test
  void sessionWrittenByJavaIsReadByNodeWithTypedValuesTagged() throws SQLException {
    Shared s = shared(new Zones("Asia/Kathmandu", "America/Adak", "UTC"), "UTC");
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("user", "bob");
    attributes.put("count", 3);
    attributes.put("roles", new ArrayList<>(List.of("admin")));
    attributes.put("visits", 7L);
    attributes.put("since", LocalDate.of(2026, 12, 4));
    String sid = saveJavaSession(s.java(), attributes, System.currentTimeMillis() + 30 * MINUTE);

    NodeSession read = s.node().find(sid);

    assertThat(read).isNotNull();
    JsonNode seen = read.attributes();
    assertThat(seen.get("user").asText()).isEqualTo("bob");
    assertThat(seen.get("count").asInt()).isEqualTo(3);
    assertThat(seen.get("roles").get(0).asText()).isEqualTo("admin");
    assertThat(seen.get("visits").get("@t").isTextual()).isTrue();
    assertThat(seen.get("visits").get("v").asLong()).isEqualTo(7L);
    assertThat(seen.get("since").get("@t").isTextual()).isTrue();
    assertThat(seen.get("since").toString()).isEqualTo(storedJson(s, sid, "since"));
    assertThat(read.originalMaxAge()).isEqualTo(30 * MINUTE);
  }

  @Test
  void typedValuesSurviveNodeRewritingTheSession() {
    Shared s = shared(new Zones("Pacific/Kiritimati", "Asia/Kathmandu", "UTC"), "UTC");
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("visits", 7L);
    attributes.put("since", LocalDate.of(2026, 12, 4));
    String sid = saveJavaSession(s.java(), attributes, System.currentTimeMillis() + 30 * MINUTE);

    s.node().update(sid, Map.of("fromNode", "hi"));
    SessionRecord read = s.java().load(sid);

    assertThat(read).isNotNull();
    assertThat(read.attributes())
        .containsEntry("visits", 7L)
        .containsEntry("since", LocalDate.of(2026, 12, 4))
        .containsEntry("fromNode", "hi");
    assertThat(read.isExpiredAt(System.currentTimeMillis())).isFalse();
  }

  @Test
  void neitherPruneDeletesALiveSessionOfTheOther() throws SQLException {
    Shared s =
        shared(
            new Zones("America/Adak", "Asia/Kathmandu", "Pacific/Kiritimati"),
            "Pacific/Kiritimati");
    long now = System.currentTimeMillis();
    String javaLive = saveJavaSession(s.java(), Map.of("n", 1), now + 30 * MINUTE);
    String javaForever = saveJavaSession(s.java(), Map.of("n", 2), 0);
    String javaExpired = saveJavaSession(s.java(), Map.of("n", 3), now - 2 * HOUR);
    String nodeLive = s.node().create(Map.of("n", 4), HOUR).sid();
    String nodeExpired = s.node().create(Map.of("n", 5), HOUR).sid();
    sql(s, "UPDATE session SET expire = expire - interval '3 hours' WHERE sid = ?", nodeExpired);

    s.node().prune();
    long reaped = s.java().reap();

    assertThat(s.node().find(javaLive)).isNotNull();
    assertThat(s.node().find(javaForever)).isNotNull();
    assertThat(s.java().exists(javaLive)).isTrue();
    assertThat(s.java().exists(javaForever)).isTrue();
    assertThat(s.node().find(nodeLive)).isNotNull();
    assertThat(s.java().exists(nodeLive)).isTrue();
    assertThat(rowCount(s, javaExpired) + rowCount(s, nodeExpired)).isZero();
    assertThat(reaped).isGreaterThanOrEqualTo(0);
  }

  @Test
  void expireZoneNotNamingTheDatabaseZoneMakesEachSidePruneTheOthersLiveSessions()
      throws SQLException {
    Shared west = shared(new Zones("UTC", "UTC", "America/Adak"), "UTC");
    Shared east = shared(new Zones("UTC", "UTC", "Pacific/Kiritimati"), "UTC");
    String nodeLiveInWest = west.node().create(Map.of("n", 1), HOUR).sid();
    String javaLiveInEast =
        saveJavaSession(east.java(), Map.of("n", 2), System.currentTimeMillis() + 30 * MINUTE);

    west.java().reap();
    east.node().prune();

    assertThat(rowCount(west, nodeLiveInWest)).isZero();
    assertThat(rowCount(east, javaLiveInEast)).isZero();
  }

  @Test
  void bothRunAtTheSameTimeAndNeitherBreaksOnTheOthersRows() throws Exception {
    Shared s =
        shared(new Zones("Pacific/Kiritimati", "America/Adak", "Asia/Kathmandu"), "Asia/Kathmandu");
    int rounds = 40;
    List<String> javaSids = new CopyOnWriteArrayList<>();
    List<String> nodeSids = new CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> javaSide =
          pool.submit(
              () -> {
                for (int i = 0; i < rounds; i++) {
                  javaSids.add(
                      saveJavaSession(
                          s.java(),
                          Map.of("n", i, "side", "java"),
                          System.currentTimeMillis() + HOUR));
                  if (!nodeSids.isEmpty()) {
                    SessionRecord other = s.java().load(nodeSids.get(i % nodeSids.size()));
                    assertThat(other).isNotNull();
                    assertThat(other.attributes()).containsEntry("side", "node");
                  }
                  s.java().reap();
                  s.java().expiredIds("/", 0, 100);
                }
                return null;
              });
      Future<?> nodeSide =
          pool.submit(
              () -> {
                for (int i = 0; i < rounds; i++) {
                  nodeSids.add(s.node().create(Map.of("n", i, "side", "node"), HOUR).sid());
                  if (!javaSids.isEmpty()) {
                    NodeSession other = s.node().find(javaSids.get(i % javaSids.size()));
                    assertThat(other).isNotNull();
                    assertThat(other.attributes().get("side").asText()).isEqualTo("java");
                  }
                  if (i % 10 == 9) {
                    s.node().prune();
                  }
                }
                return null;
              });
      javaSide.get(2, TimeUnit.MINUTES);
      nodeSide.get(2, TimeUnit.MINUTES);
    } finally {
      pool.shutdownNow();
    }

    for (String sid : javaSids) {
      assertThat(s.java().load(sid).attributes()).containsEntry("side", "java");
      assertThat(s.node().find(sid)).as(sid).isNotNull();
    }
    for (String sid : nodeSids) {
      assertThat(s.java().load(sid).attributes()).containsEntry("side", "node");
      assertThat(s.node().find(sid)).as(sid).isNotNull();
    }
    assertThat(s.node().output()).doesNotContain("failed").doesNotContain("error");
  }

  // ---------------------------------------------------------------- setup and helpers

  /**
   * A fresh database whose TimeZone is {@code zones.database()}, the Node application on it in
   * {@code zones.node()}, and a Java store with {@code expireZone} whose connections are opened in
   * {@code zones.jvm()}. The Node application creates the table, with connect-pg-simple's own DDL.
   */
  private Shared shared(Zones zones, String expireZone) {
    String url = pg.server().createDatabase("node_interop");
    setDatabaseZone(url, zones.database());
    NodeApp node = NodeApp.start(url, pg.server().user(), pg.server().password(), zones.node());
    resources.add(node);
    node.find("warm-up");

    TimeZone.setDefault(TimeZone.getTimeZone(zones.jvm()));
    HikariDataSource ds = PgDataSources.create(pg.server().settings(url), "node-interop-java");
    resources.add(ds);
    PgSessionConfig config = PgSessionConfig.builder().expireZone(expireZone).build();
    return new Shared(url, new PgSessionStore(ds, config, getClass().getClassLoader()), node);
  }

  private static void setDatabaseZone(String url, String zone) {
    String database = url.substring(url.lastIndexOf('/') + 1).replaceFirst("\\?.*", "");
    try (Connection c = pg.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute("ALTER DATABASE \"" + database + "\" SET timezone TO '" + zone + "'");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String saveJavaSession(
      PgSessionStore store, Map<String, Object> attributes, long expiry) {
    String sid = "java-" + UUID.randomUUID();
    long now = System.currentTimeMillis();
    int maxInactive = expiry == 0 ? -1 : (int) Math.max(1, Math.round((expiry - now) / 1000.0));
    SessionRecord r = new SessionRecord(sid, now, maxInactive).expiry(expiry);
    r.attributes().putAll(attributes);
    store.save(r);
    return sid;
  }

  private static String javaConnectionZone(Shared s) throws SQLException {
    try (Connection c = s.java().dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW TimeZone")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void sql(Shared s, String statement, String sid) throws SQLException {
    try (Connection c = s.java().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(statement)) {
      ps.setString(1, sid);
      ps.executeUpdate();
    }
  }

  private static long rowCount(Shared s, String sid) throws SQLException {
    try (Connection c = s.java().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM session WHERE sid = ?")) {
      ps.setString(1, sid);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static String storedJson(Shared s, String sid, String attribute) throws SQLException {
    try (Connection c = s.java().dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT (sess -> ?)::text FROM session WHERE sid = ?")) {
      ps.setString(1, attribute);
      ps.setString(2, sid);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }
}
