package io.pgsession;

import java.util.List;
import java.util.Set;

/**
 * Decides which class names stored data may name. A name is checked as text before any class is
 * loaded, so a row written by someone else can never make pgsession load, initialise or instantiate
 * a class outside this list.
 */
final class TypeAllowlist {
  /** JDK classes that may be named in a document besides the value types with short tags. */
  private static final Set<String> JDK_CLASSES =
      Set.of(
          "java.util.ArrayList",
          "java.util.LinkedList",
          "java.util.HashMap",
          "java.util.LinkedHashMap",
          "java.util.TreeMap",
          "java.util.HashSet",
          "java.util.LinkedHashSet",
          "java.util.TreeSet",
          "java.util.concurrent.ConcurrentHashMap",
          "java.util.concurrent.CopyOnWriteArrayList",
          "java.util.concurrent.ConcurrentSkipListMap",
          "java.util.concurrent.ConcurrentSkipListSet",
          "java.lang.Object",
          "java.lang.String",
          "java.lang.Boolean",
          "java.lang.Integer",
          "java.lang.Long",
          "java.lang.Short",
          "java.lang.Byte",
          "java.lang.Character",
          "java.lang.Float",
          "java.lang.Double",
          "java.lang.Number",
          "java.math.BigDecimal",
          "java.math.BigInteger",
          "java.util.UUID",
          "java.util.Date",
          "java.time.DayOfWeek",
          "java.time.Month",
          "java.time.temporal.ChronoUnit",
          "java.util.concurrent.TimeUnit",
          "java.time.Instant",
          "java.time.LocalDate",
          "java.time.LocalTime",
          "java.time.LocalDateTime",
          "java.time.OffsetDateTime",
          "java.time.OffsetTime",
          "java.time.ZonedDateTime",
          "java.time.Duration",
          "java.time.Period",
          "java.time.Year",
          "java.time.YearMonth",
          "java.time.MonthDay");

  private final List<String> prefixes;

  TypeAllowlist(List<String> packages) {
    this.prefixes = packages.stream().map(p -> p + ".").toList();
  }

  /** Whether a class of this binary name may be loaded for a stored value. */
  boolean allows(String className) {
    if (JDK_CLASSES.contains(className)) {
      return true;
    }
    for (String prefix : prefixes) {
      if (className.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** The same check for a class in hand, before it is written. */
  boolean allows(Class<?> type) {
    return allows(type.getName());
  }
}
