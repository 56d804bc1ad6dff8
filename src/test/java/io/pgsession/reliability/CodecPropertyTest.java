package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.SessionRecord;
import io.pgsession.reliability.allowed.Box;
import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Arbitrary nested values saved by one node come back from another equal and of the same class, at
 * every depth.
 */
class CodecPropertyTest {
  private static final PropertyDatabase db =
      new PropertyDatabase(
          "codec_properties",
          PgSessionConfig.builder().allowPackages("io.pgsession.reliability.allowed").build(),
          2);
  private static final AtomicInteger IDS = new AtomicInteger();

  @Property(tries = 200)
  void anyNestedValueRoundTripsEqualAndOfTheSameClass(@ForAll("values") Object value) {
    String sid = "codec-" + IDS.incrementAndGet();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 600);
    record.attributes().put("value", value);

    db.node(0).save(record);
    Object back = db.node(1).load(sid).attributes().get("value");

    assertThat(sameValue(value, back))
        .as("%s came back as %s", describe(value), describe(back))
        .isTrue();
    db.node(0).delete(sid);
  }

  @Provide
  Arbitrary<Object> values() {
    return Arbitraries.recursive(CodecPropertyTest::scalars, CodecPropertyTest::containers, 0, 4);
  }

  private static Arbitrary<Object> scalars() {
    return Arbitraries.oneOf(
        text(),
        Arbitraries.integers(),
        Arbitraries.longs(),
        Arbitraries.doubles(),
        Arbitraries.of(Double.NaN, -0.0, Double.NEGATIVE_INFINITY, Double.MIN_VALUE),
        Arbitraries.bigDecimals(),
        Arbitraries.of(true, false),
        Arbitraries.integers().array(int[].class).ofMaxSize(4),
        text().array(String[].class).ofMaxSize(3),
        Arbitraries.just(null));
  }

  @SuppressWarnings("unchecked")
  private static Arbitrary<Object> containers(Arbitrary<Object> inner) {
    Arbitrary<Object> lists = inner.list().ofMaxSize(4).map(ArrayList::new);
    Arbitrary<Object> maps =
        Arbitraries.maps(key(), inner).ofMaxSize(4).map(m -> new LinkedHashMap<>(m));
    Arbitrary<Object> sets =
        Arbitraries.oneOf(text(), Arbitraries.longs().map(l -> (Object) l))
            .set()
            .ofMaxSize(4)
            .map(s -> (Object) new LinkedHashSet<>(s));
    Arbitrary<Object> hashSets =
        Arbitraries.integers().set().ofMaxSize(4).map(s -> (Object) new HashSet<>(s));
    Arbitrary<Object> boxes =
        inner
            .list()
            .ofMaxSize(2)
            .flatMap(
                list ->
                    Arbitraries.maps(key(), inner)
                        .ofMaxSize(2)
                        .flatMap(
                            map ->
                                inner.map(
                                    content ->
                                        (Object)
                                            new Box(
                                                content,
                                                new ArrayList<>(list),
                                                new LinkedHashMap<>(map)))));
    return Arbitraries.oneOf(lists, maps, sets, hashSets, boxes);
  }

  /** Any valid Unicode text, NUL and every plane included. */
  private static Arbitrary<Object> text() {
    return codePoints(0).map(s -> (Object) s);
  }

  /** Map keys: valid Unicode without NUL, which names and keys cannot hold. */
  private static Arbitrary<String> key() {
    return codePoints(1);
  }

  private static Arbitrary<String> codePoints(int lowest) {
    Arbitrary<Integer> codePoint =
        Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.integers().between(Math.max(lowest, 0x20), 0x7e)),
                Tuple.of(3, Arbitraries.integers().between(lowest, 0xffff)),
                Tuple.of(2, Arbitraries.integers().between(0x10000, 0x10ffff)))
            .filter(c -> c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE);
    return codePoint
        .list()
        .ofMaxSize(12)
        .map(
            cps -> {
              StringBuilder s = new StringBuilder();
              cps.forEach(s::appendCodePoint);
              return s.toString();
            });
  }

  /** Equal and of the same class at every depth; arrays and records compared element-wise. */
  static boolean sameValue(Object a, Object b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a.getClass() != b.getClass()) {
      return false;
    }
    if (a.getClass().isArray()) {
      return sameArray(a, b);
    }
    if (a instanceof List<?> la) {
      return sameElements(la.iterator(), ((List<?>) b).iterator(), la.size(), ((List<?>) b).size());
    }
    if (a instanceof Map<?, ?> ma) {
      Map<?, ?> mb = (Map<?, ?>) b;
      return ma.keySet().equals(mb.keySet())
          && ma.keySet().stream().allMatch(k -> sameValue(ma.get(k), mb.get(k)));
    }
    if (a instanceof Record) {
      return sameComponents(a, b);
    }
    return a.equals(b);
  }

  private static boolean sameArray(Object a, Object b) {
    int length = Array.getLength(a);
    if (length != Array.getLength(b)) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (!sameValue(Array.get(a, i), Array.get(b, i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameElements(Iterator<?> a, Iterator<?> b, int sizeA, int sizeB) {
    if (sizeA != sizeB) {
      return false;
    }
    while (a.hasNext()) {
      if (!sameValue(a.next(), b.next())) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameComponents(Object a, Object b) {
    try {
      for (RecordComponent c : a.getClass().getRecordComponents()) {
        if (!sameValue(c.getAccessor().invoke(a), c.getAccessor().invoke(b))) {
          return false;
        }
      }
      return true;
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  private static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    String text =
        value.getClass().isArray()
            ? Arrays.deepToString(new Object[] {value})
            : String.valueOf(value);
    return value.getClass().getName() + " " + text;
  }
}
