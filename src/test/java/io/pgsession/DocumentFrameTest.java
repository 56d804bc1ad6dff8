package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The frame of the document (cookie, metadata, attribute keys) is written by hand: its strings are
 * escaped exactly as Jackson escapes them, and every field reads back as it was.
 */
class DocumentFrameTest {
  private static final ObjectMapper JSON = new ObjectMapper(ValueCodec.JSON);
  private static final SessionDocument DOCUMENT =
      new SessionDocument(
          new ValueCodec(new TypeAllowlist(List.of()), DocumentFrameTest.class.getClassLoader()));

  @Property(tries = 2000)
  void textIsQuotedAsJacksonQuotesIt(@ForAll("text") String text) throws IOException {
    StringBuilder mine = new StringBuilder();
    SessionDocument.quote(mine, text);

    assertThat(mine.toString()).isEqualTo(jackson(text));
  }

  @Test
  void everyCharacterIsQuotedAsJacksonQuotesIt() throws IOException {
    StringBuilder all = new StringBuilder();
    for (char c = 0; c < 0x800; c++) {
      all.append(c).append('x');
    }
    StringBuilder mine = new StringBuilder();
    SessionDocument.quote(mine, all.toString());

    assertThat(mine.toString()).isEqualTo(jackson(all.toString()));
  }

  @Property(tries = 2000)
  void stringsNumbersAndBooleansAreWrittenAsTheGeneratorWritesThem(
      @ForAll("plainValues") Object value) {
    assertThat(DOCUMENT.encodeValue(value)).isEqualTo(DOCUMENT.encodeWithGenerator(value));
  }

  @Provide
  Arbitrary<Object> plainValues() {
    return Arbitraries.oneOf(
        text().map(t -> (Object) t),
        Arbitraries.longs().map(l -> (Object) l),
        Arbitraries.integers().map(i -> (Object) i),
        Arbitraries.of(true, false).map(b -> (Object) b));
  }

  @Test
  void aStringThatCannotBeStoredIsRefusedAsTheGeneratorRefusesIt() {
    String unpaired = "a\uD800b";

    assertThatThrownBy(() -> DOCUMENT.encodeValue(unpaired))
        .isInstanceOf(CodecException.class)
        .hasMessage("it holds an unpaired surrogate at index 1");
    assertThatThrownBy(() -> DOCUMENT.encodeWithGenerator(unpaired))
        .isInstanceOf(CodecException.class)
        .hasMessage("it holds an unpaired surrogate at index 1");
  }

  @Property(tries = 500)
  void theFrameReadsBackAsItWasWritten(
      @ForAll("text") String context,
      @ForAll("text") String node,
      @ForAll("text") String name,
      @ForAll("millis") long created,
      @ForAll("seconds") int maxInactive)
      throws IOException {
    String attribute = name.isEmpty() ? "a" : name;
    SessionRecord r = new SessionRecord("sid", created, maxInactive);
    r.accessed(created + 5).lastAccessed(created + 1).context(context).lastNode(node);
    r.expiry(SessionRecord.expiryFor(created + 5, maxInactive));
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put(attribute, "[1,\"two\"]");
    attributes.put("cookie", "3");

    String json = DOCUMENT.assemble(r, attributes, 7);
    JsonNode tree = JSON.readTree(json);
    SessionRecord back =
        DOCUMENT.decode("sid", json.getBytes(StandardCharsets.UTF_8), r.expiry(), created);

    assertThat(tree.path("cookie").path("path").asText())
        .isEqualTo(context.isEmpty() ? "/" : context);
    assertThat(tree.path("cookie").path("httpOnly").asBoolean()).isTrue();
    assertThat(tree.path("pgsession").path("version").asLong()).isEqualTo(7);
    assertThat(tree.path("~cookie").asInt()).isEqualTo(3);
    assertThat(back.context()).isEqualTo(context);
    assertThat(back.lastNode()).isEqualTo(node);
    assertThat(back.created()).isEqualTo(created);
    assertThat(back.accessed()).isEqualTo(created + 5);
    assertThat(back.lastAccessed()).isEqualTo(created + 1);
    assertThat(back.maxInactiveSeconds()).isEqualTo(maxInactive);
    assertThat(back.version()).isEqualTo(7);
    assertThat(back.attributes()).containsOnlyKeys(attribute, "cookie");
    assertThat(back.attributes().get(attribute)).isEqualTo(List.of(1, "two"));
    if (maxInactive > 0) {
      assertThat(tree.path("cookie").path("originalMaxAge").asLong())
          .isEqualTo(maxInactive * 1000L);
    } else {
      assertThat(tree.path("cookie").path("originalMaxAge").isNull()).isTrue();
    }
    if (r.expiry() > 0) {
      assertThat(tree.path("cookie").path("expires").asText())
          .isEqualTo(SessionDocument.isoMillis(r.expiry()));
    } else {
      assertThat(tree.path("cookie").path("expires").isNull()).isTrue();
    }
  }

  @Provide
  Arbitrary<String> text() {
    // Well-formed text of every kind, control characters and the escapes' own characters often.
    Arbitrary<Character> chars =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(3, Arbitraries.chars().range((char) 0, (char) 0x7f)),
            net.jqwik.api.Tuple.of(2, Arbitraries.of('"', '\\', '\n', '\u0000', '\u001f', '/')),
            net.jqwik.api.Tuple.of(1, Arbitraries.chars().range((char) 0x80, (char) 0xd7ff)));
    return Arbitraries.oneOf(
        chars.list().ofMaxSize(40).map(DocumentFrameTest::join),
        Arbitraries.of("/", "/shop", "node-1", "\ud83d\ude00 \u4f1a\u8bdd", "\u00e9t\u00e9"));
  }

  @Provide
  Arbitrary<Long> millis() {
    return Arbitraries.longs().between(-62_135_596_800_000L, 253_402_300_799_000L);
  }

  @Provide
  Arbitrary<Integer> seconds() {
    return Arbitraries.oneOf(
        Arbitraries.integers().between(-5, 5), Arbitraries.integers().between(1, 2_000_000));
  }

  private static String join(List<Character> chars) {
    StringBuilder sb = new StringBuilder();
    chars.forEach(sb::append);
    return sb.toString();
  }

  private static String jackson(String text) throws IOException {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = ValueCodec.JSON.createGenerator(out)) {
      g.writeString(text);
    }
    return out.toString();
  }
}
