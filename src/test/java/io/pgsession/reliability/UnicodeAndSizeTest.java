package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attribute text with any Unicode a Java string can hold round-trips exactly, through every
 * statement that reads the document in SQL, or fails naming the attribute; and the per-session size
 * limit refuses a session without touching what was stored.
 */
class UnicodeAndSizeTest {
  private static final AtomicInteger IDS = new AtomicInteger();

  @RegisterExtension static PostgresExtension pg = new PostgresExtension();
  private static PgSessionStore store;
  private static PgSessionStore otherNode;

  @BeforeAll
  static void stores() {
    PgSessionConfig config =
        PgSessionConfig.builder().reaperGrace(Duration.ZERO).maxSessionBytes(8 << 20).build();
    ClassLoader loader = UnicodeAndSizeTest.class.getClassLoader();
    store = new PgSessionStore(pg.dataSource(), config, loader);
    otherNode = new PgSessionStore(pg.newDataSource(), config, loader);
  }

  static Stream<Arguments> validText() {
    return Stream.of(
        Arguments.of("NUL inside", "before\u0000after"),
        Arguments.of("only NULs", "\u0000\u0000"),
        Arguments.of("C0 controls and DEL", controls()),
        Arguments.of("line and paragraph separators", "a\u2028b\u2029c"),
        Arguments.of("byte order mark and noncharacters", "\ufeff\ufffe\uffff\ufdd0"),
        Arguments.of("combining marks", "e\u0301 a\u0308\u0323 \u0915\u094d\u0937"),
        Arguments.of(
            "right to left",
            "\u05e9\u05dc\u05d5\u05dd \u0627\u0644\u0633\u0644\u0627\u0645 \u202eevil"),
        Arguments.of(
            "supplementary planes",
            "\ud83d\ude00 \ud800\udc00 \ud840\udc00 \udb40\udc01 \udbff\udfff"),
        Arguments.of("every BMP character", everyBmpCharacter()),
        Arguments.of("one character of each plane", onePerPlane()),
        Arguments.of(
            "JSON and SQL syntax",
            "\"},{\"@t\":\"java.lang.Runtime\"} '; DROP TABLE session; -- \\u0000"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validText")
  void validTextRoundTripsExactlyThroughSaveMergeExistsAndReap(String kind, String text) {
    String sid = "text-" + IDS.incrementAndGet();
    // Names and map keys cannot hold NUL (see below); values can.
    String name = text.replace("\u0000", "(nul)");
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put(name, List.of(text));
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 3600);
    record.attributes().put("value", text);
    record.attributes().put("nested", nested);
    record.attributes().put(name, "as a name");

    store.save(record);
    SessionRecord mine = store.load(sid);
    SessionRecord theirs = otherNode.load(sid);
    theirs.attributes().put("theirs", text);
    otherNode.save(theirs);
    mine.attributes().put("mine", text);
    PgSessionStore.SaveOutcome merged = store.save(mine);
    boolean exists = store.exists(sid);
    List<String> expired = store.expiredIds("/", 0, 10);

    SessionRecord back = otherNode.load(sid);
    assertThat(merged).isEqualTo(PgSessionStore.SaveOutcome.MERGED);
    assertThat(exists).isTrue();
    assertThat(expired).doesNotContain(sid);
    assertThat(back.attributes())
        .containsEntry("value", text)
        .containsEntry("nested", nested)
        .containsEntry(name, "as a name")
        .containsEntry("theirs", text)
        .containsEntry("mine", text);
  }

  static Stream<Arguments> textWithNul() {
    return Stream.of(
        Arguments.of("a map key with NUL", "note", Map.of("k\u0000", 1)),
        Arguments.of("a plain map key with NUL", "note", new LinkedHashMap<>(Map.of("k\u0000", 1))),
        Arguments.of("a NUL character", "note", '\u0000'),
        Arguments.of("an attribute name with NUL", "no\u0000te", "value"));
  }

  /**
   * PostgreSQL's json type accepts {@code \u0000}, but its operators then fail on the whole
   * document ("unsupported Unicode escape sequence", SQLState 22P05): the version check of every
   * later save of the session, and the expiry query over every session of the table. String values
   * holding NUL are stored in parts; a name, map key or character holding it is refused when it is
   * saved, naming the attribute, and the rest of the session is written.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("textWithNul")
  void textWithNulIsRefusedNamingTheAttributeAndBreaksNoQuery(
      String kind, String name, Object value) throws Exception {
    String sid = "nul-" + IDS.incrementAndGet();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 3600);
    record.attributes().put("other", "saved");
    record.attributes().put(name, value);

    PgSessionException failure = catchFailure(() -> store.save(record));
    expire(sid);
    List<String> expired = store.expiredIds("/", 0, 1000);

    assertThat(failure)
        .hasMessageContaining(sid)
        .hasMessageContaining("'" + name + "'")
        .hasMessageContaining("NUL");
    assertThat(expired).contains(sid);
    SessionRecord taken = store.takeExpired(sid);
    assertThat(taken.attributes()).containsOnlyKeys("other");
  }

  static Stream<Arguments> invalidText() {
    return Stream.of(
        Arguments.of("lone high surrogate", "a\ud800b"),
        Arguments.of("lone low surrogate", "\udc00"),
        Arguments.of("reversed pair", "\udc00\ud800"),
        Arguments.of("high surrogate at the end", "abc\ud83d"));
  }

  @ParameterizedTest(name = "{0} in a value")
  @MethodSource("invalidText")
  void invalidTextInAValueFailsNamingTheAttributeAndKeepsTheStoredValue(String kind, String text) {
    String sid = "bad-value-" + IDS.incrementAndGet();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 3600);
    record.attributes().put("note", "stored");
    store.save(record);
    SessionRecord loaded = store.load(sid);
    loaded.attributes().put("note", List.of("x", text));
    loaded.attributes().put("other", "saved");

    assertThatThrownBy(() -> store.save(loaded))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining(sid)
        .hasMessageContaining("'note'")
        .hasMessageContaining("surrogate");
    assertThat(store.load(sid).attributes())
        .containsEntry("note", "stored")
        .containsEntry("other", "saved");
  }

  @ParameterizedTest(name = "{0} in a name")
  @MethodSource("invalidText")
  void invalidTextInAnAttributeNameFailsClearlyAndStoresNoMangledName(String kind, String text) {
    String sid = "bad-name-" + IDS.incrementAndGet();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 3600);
    record.attributes().put("note", "stored");
    record.attributes().put(text, "value");

    PgSessionException failure = catchFailure(() -> store.save(record));

    assertThat(failure).hasMessageContaining(sid).hasMessageContaining("surrogate");
    assertThat(store.load(sid).attributes()).containsOnlyKeys("note");
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aSessionOverTheSizeLimitIsRefusedNamingItAndTheSizeAndTheStoredStateStays(boolean stored) {
    PgSessionStore limited =
        new PgSessionStore(
            pg.dataSource(),
            PgSessionConfig.builder().maxSessionBytes(10_000).build(),
            getClass().getClassLoader());
    String sid = "limited-" + IDS.incrementAndGet();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 3600);
    record.attributes().put("small", "fits");
    if (stored) {
      limited.save(record);
      record = limited.load(sid);
    }
    record.attributes().put("big", "\u00e9".repeat(6_000));
    SessionRecord tooBig = record;

    assertThatThrownBy(() -> limited.save(tooBig))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining(sid)
        .hasMessageMatching("(?s).*\\b1[0-9]{4} bytes.*")
        .hasMessageContaining("10000")
        .hasMessageContaining("maxSessionBytes");
    SessionRecord back = limited.load(sid);
    if (stored) {
      assertThat(back.attributes()).containsOnlyKeys("small");
    } else {
      assertThat(back).isNull();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "session; DROP TABLE x",
        "\"session\"",
        "ses sion",
        "1session",
        "s\u0000",
        "",
        "sessionsessionsessionsessionsessionsessionsessionsessionsession1"
      })
  void aBadTableOrSchemaNameIsRejectedAtStartNamingTheSetting(String name) {
    assertThatThrownBy(() -> PgSessionConfig.builder().table(name).build())
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("table");
    if (!name.isEmpty()) {
      assertThatThrownBy(() -> PgSessionConfig.builder().schema(name).build())
          .isInstanceOf(PgSessionException.class)
          .hasMessageContaining("schema");
    }
    assertThatThrownBy(() -> PgSessionConfig.builder().set("table", name).build())
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("table");
  }

  private static void expire(String sid) throws Exception {
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.executeUpdate(
          "UPDATE "
              + store.tableName()
              + " SET expire = expire - interval '2 hours'"
              + " WHERE sid = '"
              + sid
              + "'");
    }
  }

  private static PgSessionException catchFailure(Runnable action) {
    try {
      action.run();
      return null;
    } catch (PgSessionException e) {
      return e;
    }
  }

  private static String controls() {
    StringBuilder s = new StringBuilder();
    for (char c = 1; c < 0x20; c++) {
      s.append(c);
    }
    return s.append('\u007f').append('\u0085').toString();
  }

  private static String everyBmpCharacter() {
    StringBuilder s = new StringBuilder(0x10000);
    for (int c = 1; c < 0x10000; c++) {
      if (!Character.isSurrogate((char) c)) {
        s.append((char) c);
      }
    }
    return s.toString();
  }

  private static String onePerPlane() {
    List<String> chars = new ArrayList<>();
    for (int plane = 0; plane <= 16; plane++) {
      chars.add(Character.toString(plane * 0x10000 + 0x41));
    }
    return String.join("", chars);
  }
}
