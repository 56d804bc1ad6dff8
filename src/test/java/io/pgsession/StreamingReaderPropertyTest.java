package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.reflect.Array;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The streaming reader ({@link ValueCodec#read(JsonParser, String)}, and its form for UTF-8 bytes)
 * reads any JSON as the tree reader it replaced reads it: the same value with the same classes at
 * every depth, or a {@link CodecException} (or another refusal) on both sides. The generated JSON
 * mixes plain values, numbers in forms other writers use, tagged objects with the tag anywhere
 * among their fields, repeated keys and extra fields, and payloads of the wrong shape.
 */
class StreamingReaderPropertyTest {
  private static final ObjectMapper TREE = new ObjectMapper(ValueCodec.JSON);
  private static final ValueCodec CODEC =
      new ValueCodec(
          new TypeAllowlist(List.of()), StreamingReaderPropertyTest.class.getClassLoader());

  private static final List<String> TAGS =
      List.of(
          "long",
          "short",
          "byte",
          "float",
          "double",
          "char",
          "BigDecimal",
          "BigInteger",
          "UUID",
          "Date",
          "Instant",
          "Locale",
          "ZoneId",
          "String",
          "int[]",
          "double[]",
          "java.lang.String[]",
          "byte[]",
          "List.of",
          "Set.of",
          "Map.of",
          "Collections.singletonMap",
          "Collections.emptyList",
          "java.util.ArrayList",
          "java.util.LinkedList",
          "java.util.HashMap",
          "java.util.LinkedHashMap",
          "java.util.TreeMap",
          "java.util.HashSet",
          "java.util.TreeSet",
          "java.time.DayOfWeek",
          "no.such.Type");

  @Property(tries = 2000)
  void theStreamingReaderReadsWhatTheTreeReaderReads(@ForAll("json") String json) {
    String streamed = streamed(json);
    String streamedFromBytes = streamedFromBytes(json);
    String tree = tree(json);

    assertThat(streamed).as("streamed read of %s", json).isEqualTo(tree);
    assertThat(streamedFromBytes).as("streamed read of the UTF-8 of %s", json).isEqualTo(tree);
  }

  @Provide
  Arbitrary<String> json() {
    return Arbitraries.recursive(StreamingReaderPropertyTest::scalars, this::containers, 0, 4);
  }

  private static Arbitrary<String> scalars() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1",
            "-1",
            "2147483647",
            "2147483648",
            "-2147483649",
            "5000000000",
            "9223372036854775807",
            "9223372036854775808",
            "123456789012345678901234567890",
            "1e3",
            "1E-3",
            "2.50",
            "-0.0",
            "0.0",
            "1.0",
            "0.1",
            "1e400",
            "-1e400",
            "4.9e-324",
            "3.4028235e38",
            "1.4e-45",
            "\"\"",
            "\"1e3\"",
            "\"NaN\"",
            "\"-Infinity\"",
            "\"a\\u0000b\"",
            "\"\\ud800\"",
            "\"\\ud83d\\ude00\"",
            "\"2024-01-02T03:04:05Z\"",
            "\"MONDAY\"",
            "\"Europe/Paris\"",
            "\"en-GB\"",
            "\"x\"",
            "\"AAEC\"",
            "\"12.30\"",
            "\"0e5\"",
            "\"6f1c9a52-4f5d-4d47-9b36-6d3a3b3ce6f1\""),
        Arbitraries.integers().map(String::valueOf),
        Arbitraries.longs().map(String::valueOf),
        Arbitraries.doubles().map(String::valueOf));
  }

  private Arbitrary<String> containers(Arbitrary<String> inner) {
    Arbitrary<String> arrays =
        inner.list().ofMaxSize(4).map(l -> l.stream().collect(Collectors.joining(",", "[", "]")));
    Arbitrary<String> field =
        Combinators.combine(Arbitraries.of("a", "b", "v", "e", "@t", "", "~x"), inner)
            .as((k, v) -> "\"" + k + "\":" + v);
    Arbitrary<String> objects =
        field.list().ofMaxSize(4).map(l -> l.stream().collect(Collectors.joining(",", "{", "}")));
    Arbitrary<String> tag = Arbitraries.of(TAGS).map(t -> "\"@t\":\"" + t + "\"");
    Arbitrary<String> payload =
        Combinators.combine(Arbitraries.of("v", "e"), Arbitraries.oneOf(inner, pairs(inner)))
            .as((k, v) -> "\"" + k + "\":" + v);
    Arbitrary<String> tagged =
        Combinators.combine(tag, payload, field.list().ofMaxSize(2), Arbitraries.integers())
            .as(
                (t, p, extra, at) -> {
                  List<String> fields = new java.util.ArrayList<>(extra);
                  fields.add(Math.floorMod(at, fields.size() + 1), p);
                  fields.add(Math.floorMod(at / 7, fields.size() + 1), t);
                  return fields.stream().collect(Collectors.joining(",", "{", "}"));
                });
    return Arbitraries.oneOf(arrays, objects, tagged, tagged);
  }

  /** A map's {@code [key, value]} entries. */
  private static Arbitrary<String> pairs(Arbitrary<String> inner) {
    return Combinators.combine(inner, inner)
        .as((k, v) -> "[" + k + "," + v + "]")
        .list()
        .ofMaxSize(3)
        .map(l -> l.stream().collect(Collectors.joining(",", "[", "]")));
  }

  private static String streamed(String json) {
    try (JsonParser p = ValueCodec.JSON.createParser(json)) {
      p.nextToken();
      return describe(CODEC.read(p, json));
    } catch (RuntimeException e) {
      // Which error comes first may differ (the stream meets fields the tree reader skips).
      return "refused";
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  /** As the store reads rows: from the UTF-8 bytes the database sends. */
  private static String streamedFromBytes(String json) {
    byte[] utf8 = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try (JsonParser p = ValueCodec.JSON.createParser(utf8)) {
      p.nextToken();
      return describe(CODEC.read(p, utf8));
    } catch (RuntimeException e) {
      return "refused";
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static String tree(String json) {
    try {
      return describe(CODEC.read(TREE.readTree(json)));
    } catch (RuntimeException e) {
      // Which error comes first may differ (the stream meets fields the tree reader skips).
      return "refused";
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  /** The value with the class of every part, doubles by their exact text. */
  private static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    String type = value.getClass().getName();
    if (value.getClass().isArray()) {
      StringBuilder s = new StringBuilder(type).append('[');
      for (int i = 0; i < Array.getLength(value); i++) {
        s.append(describe(Array.get(value, i))).append(',');
      }
      return s.append(']').toString();
    }
    if (value instanceof Map<?, ?> map) {
      return type
          + map.entrySet().stream()
              .map(e -> describe(e.getKey()) + "=" + describe(e.getValue()))
              .collect(Collectors.joining(",", "{", "}"));
    }
    if (value instanceof Collection<?> c) {
      return type + c.stream().map(StreamingReaderPropertyTest::describe).toList();
    }
    return type + ":" + value;
  }
}
