package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** Comparisons of records read in different ways (from the cache, in full), field by field. */
final class SameRecords {
  private SameRecords() {}

  /** The package of the value types the cache tests store. */
  static final String VALUE_TYPES = "io.pgsession.valuetypes";

  /** The read cache's default size. */
  static final long DEFAULT_CACHE = PgSessionConfig.defaults().readCacheBytes();

  /**
   * A store on {@code ds} that may store the test value types and keep {@code readCacheBytes} of
   * what it reads and writes ({@code 0}: a store that always reads in full).
   */
  static PgSessionStore valueTypeStore(DataSource ds, long readCacheBytes) {
    return new PgSessionStore(
        ds,
        PgSessionConfig.builder().allowPackages(VALUE_TYPES).readCacheBytes(readCacheBytes).build(),
        SameRecords.class.getClassLoader());
  }

  /** A session whose values all follow from {@code n}, so a torn read shows. */
  static Map<String, Object> counted(long n) {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("n", n);
    a.put("pair", new ArrayList<>(List.of(n, n * 2)));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("text", "n=" + n);
    a.put("map", m);
    return a;
  }

  /** The same session: every field, and every value equal and of the same class at every depth. */
  static void assertSameRecord(SessionRecord actual, SessionRecord expected) {
    assertThat(actual).isNotNull();
    assertThat(expected).isNotNull();
    assertThat(actual.sid()).isEqualTo(expected.sid());
    assertThat(actual.created()).as("created").isEqualTo(expected.created());
    assertThat(actual.accessed()).as("accessed").isEqualTo(expected.accessed());
    assertThat(actual.lastAccessed()).as("lastAccessed").isEqualTo(expected.lastAccessed());
    assertThat(actual.maxInactiveSeconds())
        .as("maxInactiveSeconds")
        .isEqualTo(expected.maxInactiveSeconds());
    assertThat(actual.expiry()).as("expiry").isEqualTo(expected.expiry());
    assertThat(actual.context()).as("context").isEqualTo(expected.context());
    assertThat(actual.lastNode()).as("lastNode").isEqualTo(expected.lastNode());
    assertThat(actual.version()).as("version").isEqualTo(expected.version());
    assertSameValue(actual.attributes(), expected.attributes());
  }

  /** Equal, of the same classes, in the same order, at every depth. */
  static void assertSameValue(Object actual, Object expected) {
    if (expected == null) {
      assertThat(actual).isNull();
      return;
    }
    assertThat(actual).isNotNull();
    if (!(expected instanceof Map<?, ?>)) {
      assertThat(actual.getClass()).isEqualTo(expected.getClass());
    }
    if (expected instanceof List<?> e) {
      List<?> a = (List<?>) actual;
      assertThat(a).hasSameSizeAs(e);
      for (int i = 0; i < e.size(); i++) {
        assertSameValue(a.get(i), e.get(i));
      }
    } else if (expected instanceof Map<?, ?> e) {
      Map<?, ?> a = (Map<?, ?>) actual;
      assertThat(new ArrayList<Object>(a.keySet())).isEqualTo(new ArrayList<Object>(e.keySet()));
      Iterator<?> values = a.values().iterator();
      for (Object v : e.values()) {
        assertSameValue(values.next(), v);
      }
    } else if (expected instanceof Double d && d.isNaN()) {
      assertThat((Double) actual).isNaN();
    } else {
      assertThat(actual).isEqualTo(expected);
      assertThat(String.valueOf(actual)).isEqualTo(String.valueOf(expected));
    }
  }
}
