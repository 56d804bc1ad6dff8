package io.pgsession;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Currency;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Tells whether an attribute value is still what was read or written, without encoding it again.
 *
 * <p>A request may change a value in place (add to a list it got from the session) without setting
 * it, so a save must look at every value. Encoding each one and comparing the text is exact but
 * costs as much as writing the session. A snapshot is cheaper: the value itself when it is
 * immutable, a copy when it is a plain list or map of such values. A value that is the same as its
 * snapshot (same classes, same order, equal leaves) encodes to the same JSON as before, so its
 * stored JSON is kept. Values of other classes (records, beans, sets, dates, arrays) have no
 * snapshot and are encoded at every save, as before.
 */
final class Snapshots {
  /** What {@link #of} returns for a value that has no snapshot. */
  static final Object NONE = new Object();

  private static final int MAX_DEPTH = 100;

  /** Immutable classes whose {@code equals} holds exactly when their JSON is the same. */
  private static final Set<Class<?>> EQUAL_BY_VALUE =
      Set.of(
          String.class,
          Boolean.class,
          Integer.class,
          Long.class,
          Short.class,
          Byte.class,
          Character.class,
          Double.class,
          Float.class);

  /**
   * Immutable JDK classes compared by identity: an equal instance may still print differently (a
   * URI's host case, say), so only the very instance that was read counts as unchanged.
   */
  private static final Set<Class<?>> IMMUTABLE =
      Set.of(
          BigInteger.class,
          BigDecimal.class,
          java.util.UUID.class,
          Instant.class,
          LocalDate.class,
          LocalTime.class,
          LocalDateTime.class,
          OffsetDateTime.class,
          OffsetTime.class,
          ZonedDateTime.class,
          Duration.class,
          Period.class,
          Year.class,
          YearMonth.class,
          MonthDay.class,
          Locale.class,
          Currency.class,
          URI.class);

  private Snapshots() {}

  /** The snapshot of a value, {@code null} for {@code null}, or {@link #NONE}. */
  static @Nullable Object of(@Nullable Object value) {
    return of(value, 0);
  }

  private static @Nullable Object of(@Nullable Object value, int depth) {
    if (value == null || isImmutable(value)) {
      return value;
    }
    if (depth >= MAX_DEPTH) {
      return NONE;
    }
    Class<?> type = value.getClass();
    if (type == ArrayList.class) {
      List<?> list = (List<?>) value;
      List<Object> copy = new ArrayList<>(list.size());
      for (Object element : list) {
        Object s = of(element, depth + 1);
        if (s == NONE) {
          return NONE;
        }
        copy.add(s);
      }
      return copy;
    }
    if (type == LinkedHashMap.class) {
      Map<?, ?> map = (Map<?, ?>) value;
      Map<Object, Object> copy = new LinkedHashMap<>(Math.max(4, map.size() * 4 / 3 + 1));
      for (Map.Entry<?, ?> e : map.entrySet()) {
        Object key = of(e.getKey(), depth + 1);
        Object s = of(e.getValue(), depth + 1);
        if (key == NONE || s == NONE) {
          return NONE;
        }
        copy.put(key, s);
      }
      return copy;
    }
    return NONE;
  }

  /**
   * An estimate of the heap a snapshot takes, in bytes, for bounding what is kept of it: object
   * headers, references, string contents (one byte a character for Latin-1 text, two otherwise) and
   * the magnitude of big numbers. Values shared with other objects (small integers, enum constants)
   * are counted as if they were not.
   */
  static long footprint(@Nullable Object snapshot) {
    if (snapshot == null) {
      return 0;
    }
    if (snapshot instanceof String text) {
      return textFootprint(text);
    }
    if (snapshot instanceof List<?> list) {
      long bytes = 40 + 8L * list.size();
      for (Object element : list) {
        bytes += footprint(element);
      }
      return bytes;
    }
    if (snapshot instanceof Map<?, ?> map) {
      // Entries of a LinkedHashMap, and its table at the default load factor.
      long bytes = 56 + 48L * map.size() + 8L * (map.size() * 4 / 3 + 1);
      for (Map.Entry<?, ?> e : map.entrySet()) {
        bytes += footprint(e.getKey()) + footprint(e.getValue());
      }
      return bytes;
    }
    if (snapshot instanceof BigInteger n) {
      return 56 + n.bitLength() / 8;
    }
    if (snapshot instanceof BigDecimal n) {
      return 96 + n.unscaledValue().bitLength() / 8;
    }
    return snapshot instanceof Number
            || snapshot instanceof Boolean
            || snapshot instanceof Character
        ? 16
        : 64;
  }

  /**
   * An estimate of the heap a string takes: header, array header and contents, one byte a character
   * when all are Latin-1, else two.
   */
  static long textFootprint(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) > 0xFF) {
        return 40 + 2L * text.length();
      }
    }
    return 40 + text.length();
  }

  private static boolean isImmutable(Object value) {
    if (value instanceof String || value instanceof Long || value instanceof Integer) {
      return true;
    }
    Class<?> type = value.getClass();
    return EQUAL_BY_VALUE.contains(type)
        || IMMUTABLE.contains(type)
        || value instanceof Enum<?>
        || value instanceof ZoneId;
  }

  /**
   * Whether {@code value} is the same as {@code snapshot} (made by {@link #of}, never {@link
   * #NONE}): it then encodes to the same JSON as the value the snapshot was made of.
   */
  static boolean unchanged(@Nullable Object value, @Nullable Object snapshot) {
    if (value == snapshot) {
      return true;
    }
    if (value == null || snapshot == null || value.getClass() != snapshot.getClass()) {
      return false;
    }
    Class<?> type = snapshot.getClass();
    if (type == String.class || EQUAL_BY_VALUE.contains(type)) {
      return value.equals(snapshot);
    }
    if (type == ArrayList.class) {
      List<?> now = (List<?>) value;
      List<?> then = (List<?>) snapshot;
      if (now.size() != then.size()) {
        return false;
      }
      for (int i = 0; i < then.size(); i++) {
        if (!unchanged(now.get(i), then.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (type == LinkedHashMap.class) {
      Map<?, ?> now = (Map<?, ?>) value;
      Map<?, ?> then = (Map<?, ?>) snapshot;
      if (now.size() != then.size()) {
        return false;
      }
      // In order: a map whose keys were put in another order is written in another order.
      Iterator<? extends Map.Entry<?, ?>> a = now.entrySet().iterator();
      for (Map.Entry<?, ?> before : then.entrySet()) {
        Map.Entry<?, ?> after = a.next();
        if (!unchanged(after.getKey(), before.getKey())
            || !unchanged(after.getValue(), before.getValue())) {
          return false;
        }
      }
      return true;
    }
    // Immutable values other than the instance read: encoded again, which is cheap for them.
    return false;
  }
}
