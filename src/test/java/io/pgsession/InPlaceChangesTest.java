package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.CountingDataSource;
import io.pgsession.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A save compares each value with a snapshot of what was read instead of encoding it again. These
 * tests hold that every change made in place is still written, and that a value the request did not
 * change keeps its stored JSON byte for byte, even JSON another writer formatted differently.
 */
class InPlaceChangesTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static CountingDataSource counting;
  private static PgSessionStore store;

  @BeforeAll
  static void createStore() {
    counting = CountingDataSource.wrap(pg.dataSource());
    store =
        new PgSessionStore(
            counting.dataSource(),
            PgSessionConfig.defaults(),
            InPlaceChangesTest.class.getClassLoader());
    store.ensureTable();
  }

  @Test
  void anElementAddedToAStoredListIsWritten() {
    String sid = stored("cart", new ArrayList<>(List.of("apple")));

    SessionRecord record = store.load(sid);
    list(record, "cart").add("pear");

    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes().get("cart")).isEqualTo(List.of("apple", "pear"));
  }

  @Test
  void aChangeDeepInsideNestedListsAndMapsIsWritten() {
    Map<String, Object> order = new LinkedHashMap<>();
    order.put("lines", new ArrayList<>(List.of(new ArrayList<>(List.of(1, 2)))));
    String sid = stored("orders", new ArrayList<>(List.of(order)));

    SessionRecord record = store.load(sid);
    @SuppressWarnings("unchecked")
    Map<String, Object> loaded = (Map<String, Object>) list(record, "orders").get(0);
    @SuppressWarnings("unchecked")
    List<List<Object>> lines = (List<List<Object>>) loaded.get("lines");
    lines.get(0).set(1, 3);

    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes().get("orders").toString())
        .isEqualTo("[{lines=[[1, 3]]}]");
  }

  @Test
  void keysPutBackInAnotherOrderAreWrittenInThatOrder() {
    Map<String, Object> prefs = new LinkedHashMap<>();
    prefs.put("theme", "dark");
    prefs.put("lang", "en");
    String sid = stored("prefs", prefs);

    SessionRecord record = store.load(sid);
    @SuppressWarnings("unchecked")
    Map<String, Object> loaded = (Map<String, Object>) record.attributes().get("prefs");
    loaded.put("theme", loaded.remove("theme"));

    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(storedJson(sid, "prefs")).isEqualTo("{\"lang\":\"en\",\"theme\":\"dark\"}");
  }

  @Test
  void anEqualNumberOfAnotherTypeIsWrittenWithItsType() {
    String sid = stored("counts", new ArrayList<>(List.of(1, 2)));

    SessionRecord record = store.load(sid);
    list(record, "counts").set(0, 1L);

    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(list(store.load(sid), "counts")).containsExactly(1L, 2);
  }

  @Test
  void negativeZeroReplacingZeroIsWritten() {
    String sid = stored("scores", new ArrayList<>(List.of(0.0)));

    SessionRecord record = store.load(sid);
    list(record, "scores").set(0, -0.0);

    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(list(store.load(sid), "scores")).containsExactly(-0.0);
  }

  @Test
  void valuesOfOtherClassesChangedInPlaceAreStillWritten() {
    Set<String> tags = new HashSet<>(Set.of("a"));
    String sid = stored("tags", tags);
    Date when = new Date(1_000L);
    SessionRecord withDate = store.load(sid);
    withDate.attributes().put("when", when);
    store.save(withDate);

    SessionRecord record = store.load(sid);
    @SuppressWarnings("unchecked")
    Set<String> loadedTags = (Set<String>) record.attributes().get("tags");
    loadedTags.add("b");
    ((Date) record.attributes().get("when")).setTime(2_000L);

    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);
    SessionRecord reloaded = store.load(sid);
    assertThat(reloaded.attributes().get("tags")).isEqualTo(Set.of("a", "b"));
    assertThat(reloaded.attributes().get("when")).isEqualTo(new Date(2_000L));
  }

  @Test
  void aListChangedAgainAfterASaveIsWrittenAgain() {
    String sid = stored("cart", new ArrayList<>(List.of("apple")));
    SessionRecord record = store.load(sid);
    List<Object> cart = list(record, "cart");
    cart.add("pear");
    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);

    cart.add("plum");

    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes().get("cart"))
        .isEqualTo(List.of("apple", "pear", "plum"));
  }

  @Test
  void jsonAnotherWriterFormattedIsNotRewrittenWhenNothingChanged() {
    String sid = "foreign-" + IDS.incrementAndGet();
    String attributes =
        "\"big\":5000000000,\"sci\":1e3,\"price\":2.50,\"list\":[1,2.0,\"x\"],"
            + "\"nested\":{\"b\":1,\"a\":[true,null]}";
    Sql.update(
        pg.dataSource(),
        "INSERT INTO session (sid, sess, expire) VALUES (?, ?::json, now() + interval '1 hour')",
        sid,
        "{\"cookie\":{\"originalMaxAge\":3600000},"
            + "\"pgsession\":{\"maxInactive\":3600,\"context\":\"/\"},"
            + attributes
            + "}");
    String before = rowText(sid);

    SessionRecord record = store.load(sid);
    record.attributes().get("nested");
    counting.reset();

    assertThat(store.save(record)).isEqualTo(SaveOutcome.UNCHANGED);
    assertThat(counting.count()).isZero();
    assertThat(rowText(sid)).isEqualTo(before);
  }

  @Test
  void anUnchangedAttributeKeepsItsStoredJsonWhenAnotherOneIsWritten() {
    String sid = "foreign-" + IDS.incrementAndGet();
    Sql.update(
        pg.dataSource(),
        "INSERT INTO session (sid, sess, expire) VALUES (?, ?::json, now() + interval '1 hour')",
        sid,
        "{\"pgsession\":{\"maxInactive\":3600,\"context\":\"/\"},\"sci\":1e3,\"n\":1}");

    SessionRecord record = store.load(sid);
    record.attributes().put("n", 2);
    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);

    assertThat(storedJson(sid, "sci")).isEqualTo("1e3");
    assertThat(storedJson(sid, "n")).isEqualTo("2");
  }

  @Test
  void aStringAnotherWriterStoredWithAnEscapedNulIsRewrittenInTheQueryableForm() {
    String sid = "foreign-" + IDS.incrementAndGet();
    Sql.update(
        pg.dataSource(),
        "INSERT INTO session (sid, sess, expire) VALUES (?, ?::json, now() + interval '1 hour')",
        sid,
        "{\"pgsession\":{\"maxInactive\":3600,\"context\":\"/\"},\"note\":\"a\\u0000b\"}");

    SessionRecord record = store.load(sid);
    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);

    assertThat(rowText(sid)).doesNotContain("\\u0000");
    assertThat(
            Sql.rows(
                pg.dataSource(),
                "SELECT sess->'pgsession'->>'context' FROM session WHERE sid = ?",
                sid))
        .containsExactly(List.of("/"));
    assertThat(store.load(sid).attributes().get("note")).isEqualTo("a\u0000b");
  }

  @Test
  void aNulEscapeThatAnotherWriterAddedDuringAMergeIsWrittenAgainAtTheNextSave() {
    String sid = stored("n", 1);
    SessionRecord record = store.load(sid);
    Sql.update(
        pg.dataSource(),
        "UPDATE session SET sess = jsonb_set(sess::jsonb, '{n}', '2')::json WHERE sid = ?",
        sid);
    String json = rowText(sid);
    Sql.update(
        pg.dataSource(),
        "UPDATE session SET sess = ?::json WHERE sid = ?",
        json.substring(0, json.lastIndexOf('}')) + ",\"note\":\"a\\u0000b\"}",
        sid);
    record.attributes().put("mine", "x");

    assertThat(store.save(record)).isEqualTo(SaveOutcome.MERGED);
    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);

    assertThat(rowText(sid)).doesNotContain("\\u0000");
    SessionRecord reloaded = store.load(sid);
    assertThat(reloaded.attributes())
        .containsEntry("note", "a\u0000b")
        .containsEntry("mine", "x")
        .containsEntry("n", 2);
  }

  @Test
  void textOutsideAsciiKeepsItsStoredJsonWhenAnotherAttributeIsWritten() {
    Map<String, Object> greeting = new LinkedHashMap<>();
    greeting.put("日本語", "こんにちは 👋🏽");
    greeting.put("ø", List.of("ü", "€", "𝄞"));
    String sid = stored("greeting", new LinkedHashMap<>(greeting));
    SessionRecord first = store.load(sid);
    first.attributes().put("after", "é");
    store.save(first);
    String before = storedJson(sid, "greeting");

    SessionRecord record = store.load(sid);
    record.attributes().put("n", 1);
    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);

    assertThat(storedJson(sid, "greeting")).isEqualTo(before);
    SessionRecord reloaded = store.load(sid);
    assertThat(reloaded.attributes().get("greeting")).isEqualTo(greeting);
    assertThat(reloaded.attributes().get("after")).isEqualTo("é");
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(SessionRecord record, String name) {
    return (List<Object>) record.attributes().get(name);
  }

  private static String stored(String name, Object value) {
    SessionRecord record =
        new SessionRecord("in-place-" + IDS.incrementAndGet(), System.currentTimeMillis(), 1800);
    record.attributes().put(name, value);
    store.save(record);
    return record.sid();
  }

  private static String rowText(String sid) {
    return Sql.rows(pg.dataSource(), "SELECT sess::text FROM session WHERE sid = ?", sid)
        .get(0)
        .get(0);
  }

  /** One attribute's JSON as the row holds it (json keeps the text as written). */
  private static String storedJson(String sid, String name) {
    return Sql.rows(pg.dataSource(), "SELECT sess->? FROM session WHERE sid = ?", name, sid)
        .get(0)
        .get(0);
  }
}
