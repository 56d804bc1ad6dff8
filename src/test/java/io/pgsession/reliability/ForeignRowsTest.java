package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionConfig.UndecodablePolicy;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Rows the store did not write: valid JSON (the column type allows nothing else) of the wrong
 * shape, bad payloads, disallowed classes and huge documents. Each reads as no session and is
 * logged once, or with {@code onUndecodable=FAIL} fails with a clear error; nothing crashes.
 */
class ForeignRowsTest {
  private static final String META = "\"pgsession\":{\"format\":1,\"version\":1,\"context\":\"/\"}";
  private static final AtomicInteger IDS = new AtomicInteger();

  @RegisterExtension static PostgresExtension pg = new PostgresExtension();
  private static PgSessionStore lenient;
  private static PgSessionStore strict;

  @BeforeAll
  static void stores() {
    ClassLoader loader = ForeignRowsTest.class.getClassLoader();
    lenient = new PgSessionStore(pg.dataSource(), PgSessionConfig.defaults(), loader);
    strict =
        new PgSessionStore(
            pg.dataSource(),
            PgSessionConfig.builder().onUndecodable(UndecodablePolicy.FAIL).build(),
            loader);
    lenient.ensureTable();
  }

  static Stream<Arguments> unreadableDocuments() {
    return Stream.of(
        Arguments.of("an array", "[1, 2]"),
        Arguments.of("a string", "\"session\""),
        Arguments.of("a number", "42"),
        Arguments.of("JSON null", "null"),
        Arguments.of("pgsession a string", "{\"pgsession\":\"x\"}"),
        Arguments.of("pgsession null", "{\"cookie\":null,\"pgsession\":null}"),
        Arguments.of("a long from text", "{" + META + ",\"a\":{\"@t\":\"long\",\"v\":\"x\"}}"),
        Arguments.of("an int[] from an object", "{" + META + ",\"a\":{\"@t\":\"int[]\",\"v\":{}}}"),
        Arguments.of(
            "a BigDecimal from a word",
            "{" + META + ",\"a\":{\"@t\":\"BigDecimal\",\"v\":\"ten\"}}"),
        Arguments.of("a UUID from a word", "{" + META + ",\"a\":{\"@t\":\"UUID\",\"v\":\"nope\"}}"),
        Arguments.of("a char of two", "{" + META + ",\"a\":{\"@t\":\"char\",\"v\":\"ab\"}}"),
        Arguments.of("a numeric type tag", "{" + META + ",\"a\":{\"@t\":5,\"v\":1}}"),
        Arguments.of(
            "an unknown type tag", "{" + META + ",\"a\":{\"@t\":\"no.such.Type\",\"v\":1}}"),
        Arguments.of(
            "a List.of holding null", "{" + META + ",\"a\":{\"@t\":\"List.of\",\"v\":[null]}}"),
        Arguments.of(
            "a list from a number",
            "{" + META + ",\"a\":{\"@t\":\"java.util.ArrayList\",\"v\":5}}"),
        Arguments.of(
            "a map without entries", "{" + META + ",\"a\":{\"@t\":\"java.util.HashMap\"}}"),
        Arguments.of(
            "a bad map entry", "{" + META + ",\"a\":{\"@t\":\"java.util.HashMap\",\"e\":[[1]]}}"),
        Arguments.of("a byte out of range", "{" + META + ",\"a\":{\"@t\":\"byte\",\"v\":300}}"),
        Arguments.of(
            "a disallowed class",
            "{" + META + ",\"a\":{\"@t\":\"java.lang.ProcessBuilder\",\"v\":{}}}"),
        Arguments.of(
            "a disallowed array", "{" + META + ",\"a\":{\"@t\":\"java.io.File[]\",\"v\":[]}}"),
        Arguments.of(
            "nested 1000 deep",
            "{" + META + ",\"a\":" + "[".repeat(1000) + "]".repeat(1000) + "}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unreadableDocuments")
  void anUnreadableRowLoadsAsNoSessionAndIsLoggedOnce(String kind, String json) throws Exception {
    String sid = insert(json);

    SessionRecord first;
    SessionRecord second;
    try (LogCapture logs = LogCapture.of("io.pgsession")) {
      first = lenient.load(sid);
      second = lenient.load(sid);
      assertThat(logs.events())
          .filteredOn(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains(sid))
          .as("warnings about %s", sid)
          .hasSize(1);
    }

    assertThat(first).isNull();
    assertThat(second).isNull();
    assertThatThrownBy(() -> strict.load(sid))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining(sid)
        .hasMessageContaining("cannot be read");
  }

  static Stream<Arguments> tolerableDocuments() {
    return Stream.of(
        Arguments.of("an empty object", "{}"),
        Arguments.of("a version that is text", "{\"pgsession\":{\"version\":\"seven\"}}"),
        Arguments.of("a fractional version", "{\"pgsession\":{\"version\":1.5}}"),
        Arguments.of("a version over bigint", "{\"pgsession\":{\"version\":1e30}}"),
        Arguments.of("only a cookie", "{\"cookie\":{\"originalMaxAge\":60000}}"),
        Arguments.of("cookie a string", "{\"cookie\":\"x\"," + META + "}"),
        Arguments.of("members null", "{\"cookie\":null," + META + ",\"a\":null}"),
        Arguments.of(
            "metadata of wrong types", "{\"pgsession\":{\"created\":\"x\",\"maxInactive\":[]}}"),
        Arguments.of(
            "an express-session row",
            "{\"cookie\":{\"originalMaxAge\":86400000,\"expires\":\"2030-01-01T00:00:00.000Z\",\"httpOnly\":true,\"path\":\"/\"},\"user\":\"ann\"}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tolerableDocuments")
  void aRowOfAnotherWriterWithMissingOrOddMetadataLoadsAndSaves(String kind, String json)
      throws Exception {
    String sid = insert(json);

    SessionRecord loaded = lenient.load(sid);
    loaded.attributes().put("added", "by pgsession");
    lenient.save(loaded);

    assertThat(lenient.load(sid).attributes()).containsEntry("added", "by pgsession");
  }

  @Test
  void aTenMegabyteDocumentLoadsWithoutCrashing() throws Exception {
    String big = "x".repeat(10 * 1024 * 1024);
    String sid = insert("{" + META + ",\"big\":\"" + big + "\"}");

    SessionRecord loaded = lenient.load(sid);

    assertThat(loaded).isNotNull();
    assertThat(((String) loaded.attributes().get("big"))).hasSize(big.length());
  }

  @Test
  @Tag("slow")
  void aTenMegabyteDocumentOfManySmallAttributesLoadsWithoutCrashing() throws Exception {
    StringBuilder json = new StringBuilder("{").append(META);
    for (int i = 0; json.length() < 10 * 1024 * 1024; i++) {
      json.append(",\"attribute")
          .append(i)
          .append("\":{\"@t\":\"long\",\"v\":")
          .append(i)
          .append('}');
    }
    String sid = insert(json.append('}').toString());

    SessionRecord loaded = lenient.load(sid);

    assertThat(loaded).isNotNull();
    assertThat(loaded.attributes()).containsEntry("attribute0", 0L);
  }

  private static String insert(String json) throws SQLException {
    String sid = "foreign-" + IDS.incrementAndGet();
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + lenient.tableName()
                    + " (sid, sess, expire) VALUES (?, ?::json,"
                    + " timezone('UTC', now()) + interval '1 hour')")) {
      ps.setString(1, sid);
      ps.setString(2, json);
      ps.executeUpdate();
    }
    return sid;
  }
}
