package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsession.notallowed.Outsider;
import io.pgsession.testing.PostgresExtension;
import io.pgsession.valuetypes.ValueTypes.Holder;
import io.pgsession.valuetypes.ValueTypes.Level;
import io.pgsession.valuetypes.ValueTypes.Nested;
import io.pgsession.valuetypes.ValueTypes.NoDefaultConstructor;
import io.pgsession.valuetypes.ValueTypes.Point;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Attribute values through a real table: exact round trips, plain JSON, and refusals. */
class AttributeValuesTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static PgSessionStore store;

  @BeforeAll
  static void createStore() {
    PgSessionConfig config =
        PgSessionConfig.builder().allowPackages("io.pgsession.valuetypes").build();
    store = new PgSessionStore(pg.dataSource(), config, AttributeValuesTest.class.getClassLoader());
  }

  static Stream<Arguments> values() {
    Map<UUID, List<Long>> byUuid = new HashMap<>();
    byUuid.put(UUID.randomUUID(), new ArrayList<>(List.of(1L, Long.MAX_VALUE)));
    byUuid.put(UUID.randomUUID(), new ArrayList<>());
    return Stream.of(
        Arguments.of("Map<UUID, List<Long>>", byUuid),
        Arguments.of("record with an Object field holding a Long", new Holder("n", 42L)),
        Arguments.of(
            "nested record",
            new Nested(
                List.of(new Point(1, 2)), Level.HIGH, new Holder("h", new BigDecimal("1.50")))),
        Arguments.of("array of records", new Point[] {new Point(1, 2), null, new Point(3, 4)}),
        Arguments.of("two-dimensional int array", new int[][] {{1, 2}, {}, {3}}),
        Arguments.of("three-dimensional Long array", new Long[][][] {{{1L}, {2L, null}}}),
        Arguments.of("List.of", List.of(1, 2L, "three")),
        Arguments.of("Set.of", Set.of("a", "b", "c")),
        Arguments.of("Map.of", Map.of("a", 1L, "b", 2L)),
        Arguments.of("Map.of with non-string keys", Map.of(1, "one", 2, "two")),
        Arguments.of("Arrays.asList", Arrays.asList("x", null)),
        Arguments.of("Collections.emptyList", Collections.emptyList()),
        Arguments.of("Collections.emptySet", Collections.emptySet()),
        Arguments.of("Collections.emptyMap", Collections.emptyMap()),
        Arguments.of("Collections.singletonList", Collections.singletonList(7L)),
        Arguments.of("Collections.singleton", Collections.singleton('c')),
        Arguments.of("Collections.singletonMap", Collections.singletonMap("k", (short) 3)),
        Arguments.of(
            "Collections.unmodifiableList",
            Collections.unmodifiableList(new ArrayList<>(List.of(1, 2)))),
        Arguments.of(
            "Collections.unmodifiableMap",
            Collections.unmodifiableMap(new LinkedHashMap<>(Map.of("a", 1)))),
        Arguments.of("TreeSet", new TreeSet<>(List.of(3, 1, 2))),
        Arguments.of("TreeMap with string keys", new TreeMap<>(Map.of("b", 1, "a", 2))),
        Arguments.of("LinkedList", new LinkedList<>(List.of("a", "b"))),
        Arguments.of("BigInteger", new BigInteger("123456789012345678901234567890")),
        Arguments.of("BigDecimal keeps its scale", new BigDecimal("2.500")),
        Arguments.of("byte", (byte) -3),
        Arguments.of("float", 1.25f),
        Arguments.of("double that is not finite", Double.NaN),
        Arguments.of("Instant", Instant.parse("2024-02-29T12:34:56.789123456Z")),
        Arguments.of("LocalDate", LocalDate.of(2024, 2, 29)),
        Arguments.of("YearMonth after the year 9999", java.time.YearMonth.of(10_000, 1)),
        Arguments.of("YearMonth before the year 0", java.time.YearMonth.of(-10_000, 12)),
        Arguments.of("Locale", java.util.Locale.forLanguageTag("nn-NO")),
        Arguments.of("java.util.Date", new java.util.Date(1_700_000_000_123L)),
        Arguments.of("enum", Level.LOW),
        Arguments.of("String holding NUL and a surrogate pair", "a\u0000b\uD83D\uDE00"),
        Arguments.of("Map with an @t key", new LinkedHashMap<>(Map.of("@t", "not a type", "v", 1))),
        Arguments.of("list holding a map with an @t key", listOf(mapOf("@t", "java.util.UUID"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("values")
  void valueComesBackEqualAndOfTheSameClass(String kind, Object value) {
    Object loaded = roundTrip(value);

    assertThat(loaded).isInstanceOf(value.getClass());
    if (value.getClass().isArray()) {
      assertThat(Arrays.deepEquals(new Object[] {loaded}, new Object[] {value})).isTrue();
    } else if (value instanceof Double d && d.isNaN()) {
      assertThat((Double) loaded).isNaN();
    } else {
      assertThat(loaded).isEqualTo(value);
    }
  }

  @Test
  void orderedKindsKeepTheirOrder() {
    LinkedHashMap<String, Integer> map = new LinkedHashMap<>();
    map.put("z", 1);
    map.put("a", 2);
    LinkedList<String> list = new LinkedList<>(List.of("z", "a", "m"));

    assertThat(new ArrayList<Object>(((Map<?, ?>) roundTrip(map)).keySet()))
        .containsExactly("z", "a");
    assertThat(new ArrayList<Object>((List<?>) roundTrip(list))).containsExactly("z", "a", "m");
  }

  @Test
  void jsonNativeValuesAreStoredAsPlainJson() {
    String sid = newSid();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 600);
    record.attributes().put("s", "text");
    record.attributes().put("b", true);
    record.attributes().put("i", 5);
    record.attributes().put("list", new ArrayList<>(List.of(1, "a")));
    record.attributes().put("map", new LinkedHashMap<>(Map.of("k", "v")));

    store.save(record);

    assertThat(
            Sql.rows(
                pg.dataSource(),
                "SELECT sess->'s', sess->'b', sess->'i', sess->'list', sess->'map'"
                    + " FROM session WHERE sid = ?",
                sid))
        .containsExactly(List.of("\"text\"", "true", "5", "[1,\"a\"]", "{\"k\":\"v\"}"));
  }

  @Test
  void longIsTaggedSoItComesBackAsALong() {
    String sid = saved(Map.of("n", 5L));

    assertThat(Sql.text(pg.dataSource(), "SELECT sess->>'n' FROM session WHERE sid = ?", sid))
        .contains("\"v\":5")
        .contains("long");
    assertThat(store.load(sid).attributes().get("n")).isEqualTo(5L);
  }

  @Test
  void enumSetIsRefusedWithAMessageNamingTheAttributeAndTheClass() {
    assertThatThrownBy(() -> saved(Map.of("levels", EnumSet.of(Level.LOW))))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("'levels'")
        .hasMessageContaining("EnumSet")
        .hasMessageNotContaining("allowedPackages");
  }

  @Test
  void attributeNameWithAnUnpairedSurrogateFailsAndTheOthersAreSaved() {
    String sid = newSid();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 600);
    record.attributes().put("ok", 1);
    record.attributes().put("bad\uDC00name", 2);

    assertThatThrownBy(() -> store.save(record))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("surrogate");

    assertThat(store.load(sid).attributes()).containsOnlyKeys("ok");
  }

  @Test
  void unpairedSurrogateFailsNamingTheAttribute() {
    String broken = "a\uD800b";

    assertThatThrownBy(() -> saved(Map.of("bad", broken, "good", 1)))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("'bad'")
        .hasMessageContaining("surrogate");
  }

  @Test
  void cyclicListFailsCleanlyNamingTheAttribute() {
    List<Object> cycle = new ArrayList<>();
    cycle.add(cycle);

    assertThatThrownBy(() -> saved(Map.of("loop", cycle)))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("'loop'")
        .hasMessageContaining("java.util.ArrayList");
  }

  static Stream<Arguments> unstorable() {
    Runnable lambda = () -> {};
    return Stream.of(
        Arguments.of("class outside the allowlist", new Outsider("x"), Outsider.class.getName()),
        Arguments.of("lambda", lambda, "Lambda"),
        Arguments.of(
            "locale its language tag cannot carry",
            new java.util.Locale("no", "NO", "NY"),
            "no_NO_NY does not survive its language tag"),
        Arguments.of(
            "class without a no-argument constructor",
            new NoDefaultConstructor("x"),
            NoDefaultConstructor.class.getName()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unstorable")
  void unstorableAttributeFailsButTheOthersAreSavedAndItsOldValueKept(
      String kind, Object bad, String className) {
    String sid = saved(Map.of("bad", "old value", "other", 1));
    SessionRecord record = store.load(sid);
    record.attributes().put("bad", bad);
    record.attributes().put("other", 2);
    record.attributes().put("added", "new");

    assertThatThrownBy(() -> store.save(record))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("'bad'")
        .hasMessageContaining(className);

    Map<String, Object> stored = store.load(sid).attributes();
    assertThat(stored)
        .containsEntry("bad", "old value")
        .containsEntry("other", 2)
        .containsEntry("added", "new");
  }

  @Test
  void unstorableAttributeOfANewSessionFailsAndTheOthersAreSaved() {
    String sid = newSid();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 600);
    record.attributes().put("ok", "yes");
    record.attributes().put("bad", new Outsider("x"));

    assertThatThrownBy(() -> store.save(record)).isInstanceOf(PgSessionException.class);

    assertThat(store.load(sid).attributes()).containsOnlyKeys("ok");
  }

  // ---------------------------------------------------------------- helpers

  private static Object roundTrip(Object value) {
    String sid = saved(Map.of("value", value));
    return store.load(sid).attributes().get("value");
  }

  private static String saved(Map<String, Object> attributes) {
    String sid = newSid();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 600);
    record.attributes().putAll(attributes);
    store.save(record);
    return sid;
  }

  private static String newSid() {
    return "values-" + IDS.incrementAndGet();
  }

  private static List<Object> listOf(Object element) {
    return new ArrayList<>(List.of(element));
  }

  private static Map<String, Object> mapOf(String key, Object value) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put(key, value);
    return map;
  }
}
