package io.pgsession;

import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The validated, immutable settings of a {@link PgSessionStore}. Every setting has a default, so
 * {@code PgSessionConfig.defaults()} is a working configuration for the table {@code "session"}
 * that connect-pg-simple uses.
 *
 * <p>Each setting can also be given as text, under the names the builder methods have, through
 * {@link Builder#set(String, String)}; the container adapters use that for jetty.xml and
 * context.xml. A bad value fails at once with a message naming the setting and the value.
 */
public final class PgSessionConfig {
  /** What the store does with a row it cannot decode. */
  public enum UndecodablePolicy {
    /** Log it once and treat the session as absent, so the user is given a fresh session. */
    NEW_SESSION,
    /** Fail the request with a {@link PgSessionException}. */
    FAIL
  }

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

  /**
   * The longest reaper interval or grace: longer ones overflow the scheduler or the timestamps the
   * reaper compares, and nobody means them.
   */
  static final Duration LONGEST_REAPER_DURATION = Duration.ofDays(3650);

  private static final Pattern PACKAGE =
      Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*");
  private static final Pattern ZONE = Pattern.compile("[A-Za-z0-9_/+\\-:]{1,64}");

  private final @Nullable String schema;
  private final String table;
  private final boolean createTable;
  private final List<String> allowedPackages;
  private final double touchFraction;
  private final Duration reaperInterval;
  private final int reaperBatchSize;
  private final Duration reaperGrace;
  private final UndecodablePolicy onUndecodable;
  private final int maxSessionBytes;
  private final long readCacheBytes;
  private final String expireZone;
  private final @Nullable String sidPrefix;

  private PgSessionConfig(Builder b) {
    this.schema = b.schema;
    this.table = b.table;
    this.createTable = b.createTable;
    this.allowedPackages = List.copyOf(b.allowedPackages);
    this.touchFraction = b.touchFraction;
    this.reaperInterval = b.reaperInterval;
    this.reaperBatchSize = b.reaperBatchSize;
    this.reaperGrace = b.reaperGrace;
    this.onUndecodable = b.onUndecodable;
    this.maxSessionBytes = b.maxSessionBytes;
    this.readCacheBytes = b.readCacheBytes;
    this.expireZone = b.expireZone;
    this.sidPrefix = b.sidPrefix;
  }

  public static PgSessionConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this configuration's values, to derive a changed copy. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.schema = schema;
    b.table = table;
    b.createTable = createTable;
    b.allowedPackages.addAll(allowedPackages);
    b.touchFraction = touchFraction;
    b.reaperInterval = reaperInterval;
    b.reaperBatchSize = reaperBatchSize;
    b.reaperGrace = reaperGrace;
    b.onUndecodable = onUndecodable;
    b.maxSessionBytes = maxSessionBytes;
    b.readCacheBytes = readCacheBytes;
    b.expireZone = expireZone;
    b.sidPrefix = sidPrefix;
    return b;
  }

  /** The schema of the table, or {@code null} to find it through the search_path. */
  public @Nullable String schema() {
    return schema;
  }

  /** The table's name; {@code session} by default, as in connect-pg-simple. */
  public String table() {
    return table;
  }

  /** Whether the store creates the table and its index when they are missing. */
  public boolean createTable() {
    return createTable;
  }

  /**
   * Packages (and their sub-packages) whose classes may be stored as attribute values, besides the
   * JDK value types that are always allowed.
   */
  public List<String> allowedPackages() {
    return allowedPackages;
  }

  /**
   * The part of a session's inactivity interval that must pass before a request writes a new
   * expiry: with a touch when it changed nothing, with the document when it changed attributes.
   * {@code 0} moves the expiry on every request.
   */
  public double touchFraction() {
    return touchFraction;
  }

  /** How often the reaper runs; {@link Duration#ZERO} turns it off. */
  public Duration reaperInterval() {
    return reaperInterval;
  }

  /** How many rows one reaper statement deletes at most. */
  public int reaperBatchSize() {
    return reaperBatchSize;
  }

  /**
   * How long after its expiry a row is left to the containers, whose own expiry fires session
   * listeners, before the reaper deletes it.
   */
  public Duration reaperGrace() {
    return reaperGrace;
  }

  public UndecodablePolicy onUndecodable() {
    return onUndecodable;
  }

  /** The largest document a session may have, in bytes of JSON; {@code 0} means no limit. */
  public int maxSessionBytes() {
    return maxSessionBytes;
  }

  /**
   * How much heap, as pgsession estimates it value by value, each store (one per web application)
   * may keep of sessions it has read or written, so that a later read of a session nobody else has
   * written since gets it without the server sending and the store decoding its document again;
   * {@code 0} turns this off. Every read still asks the database.
   */
  public long readCacheBytes() {
    return readCacheBytes;
  }

  /**
   * The time zone in which the {@code expire} column (a timestamp without time zone) is written and
   * compared. It must be the zone that other clients of the table use, which for connect-pg-simple
   * is the database's {@code TimeZone} setting.
   */
  public String expireZone() {
    return expireZone;
  }

  /**
   * The text put before a session id to form the row's {@code sid}, or {@code null} to let the
   * container adapter derive it from the web application's context path.
   */
  public @Nullable String sidPrefix() {
    return sidPrefix;
  }

  /** The schema-qualified, quoted table name, safe to place in SQL. */
  public String qualifiedTable() {
    return schema == null ? quote(table) : quote(schema) + '.' + quote(table);
  }

  /** The quoted name of the expire index, {@code "IDX_session_expire"} for the default table. */
  public String quotedExpireIndex() {
    return quote("IDX_" + table + "_expire");
  }

  static String quote(String identifier) {
    return '"' + identifier + '"';
  }

  @Override
  public String toString() {
    return "table="
        + (schema == null ? "" : schema + ".")
        + table
        + ", createTable="
        + createTable
        + ", allowedPackages="
        + allowedPackages
        + ", touchFraction="
        + touchFraction
        + ", reaperInterval="
        + reaperInterval
        + ", reaperBatchSize="
        + reaperBatchSize
        + ", reaperGrace="
        + reaperGrace
        + ", onUndecodable="
        + onUndecodable
        + ", maxSessionBytes="
        + maxSessionBytes
        + ", readCacheBytes="
        + readCacheBytes
        + ", expireZone="
        + expireZone
        + (sidPrefix == null ? "" : ", sidPrefix=" + sidPrefix);
  }

  /** Collects and validates settings; each setter rejects a bad value at once. */
  public static final class Builder {
    private @Nullable String schema;
    private String table = "session";
    private boolean createTable = true;
    private final List<String> allowedPackages = new ArrayList<>();
    private double touchFraction = 0.1;
    private Duration reaperInterval = Duration.ofMinutes(15);
    private int reaperBatchSize = 1000;
    private Duration reaperGrace = Duration.ofMinutes(30);
    private UndecodablePolicy onUndecodable = UndecodablePolicy.NEW_SESSION;
    private int maxSessionBytes = 1 << 20;
    private long readCacheBytes = 32L << 20;
    private String expireZone = "UTC";
    private @Nullable String sidPrefix;

    private Builder() {}

    public Builder schema(@Nullable String schema) {
      this.schema = schema == null || schema.isBlank() ? null : identifier("schema", schema);
      return this;
    }

    public Builder table(String table) {
      this.table = identifier("table", table);
      return this;
    }

    public Builder createTable(boolean createTable) {
      this.createTable = createTable;
      return this;
    }

    /** Adds packages whose classes may be stored; see {@link #allowedPackages()}. */
    public Builder allowPackages(String... packages) {
      for (String p : packages) {
        String name = p.strip();
        if (name.endsWith(".*")) {
          name = name.substring(0, name.length() - 2);
        }
        require(PACKAGE.matcher(name).matches(), "allowedPackages", p, "is not a package name");
        require(
            !isJdkPackage(name),
            "allowedPackages",
            p,
            "may not name a JDK package: the JDK value types pgsession supports are allowed"
                + " already, and others are not safe to instantiate from stored data");
        require(
            name.indexOf('.') > 0,
            "allowedPackages",
            p,
            "is a top-level package, which would allow the classes of every library under it;"
                + " name your application's own packages");
        allowedPackages.add(name);
      }
      return this;
    }

    public Builder touchFraction(double fraction) {
      require(fraction >= 0 && fraction <= 1, "touchFraction", fraction, "must be from 0 to 1");
      this.touchFraction = fraction;
      return this;
    }

    public Builder reaperInterval(Duration interval) {
      require(!interval.isNegative(), "reaperInterval", interval, "may not be negative");
      require(
          interval.compareTo(LONGEST_REAPER_DURATION) <= 0,
          "reaperInterval",
          interval,
          "may be at most 3650 days");
      this.reaperInterval = interval;
      return this;
    }

    public Builder reaperBatchSize(int size) {
      require(size > 0, "reaperBatchSize", size, "must be positive");
      this.reaperBatchSize = size;
      return this;
    }

    public Builder reaperGrace(Duration grace) {
      require(!grace.isNegative(), "reaperGrace", grace, "may not be negative");
      require(
          grace.compareTo(LONGEST_REAPER_DURATION) <= 0,
          "reaperGrace",
          grace,
          "may be at most 3650 days");
      this.reaperGrace = grace;
      return this;
    }

    public Builder onUndecodable(UndecodablePolicy policy) {
      this.onUndecodable = Objects.requireNonNull(policy, "onUndecodable");
      return this;
    }

    public Builder maxSessionBytes(int bytes) {
      require(bytes >= 0, "maxSessionBytes", bytes, "may not be negative (0 means no limit)");
      this.maxSessionBytes = bytes;
      return this;
    }

    public Builder readCacheBytes(long bytes) {
      require(bytes >= 0, "readCacheBytes", bytes, "may not be negative (0 turns the cache off)");
      this.readCacheBytes = bytes;
      return this;
    }

    public Builder expireZone(String zone) {
      String z = zone.strip();
      require(ZONE.matcher(z).matches(), "expireZone", zone, "is not a time zone name");
      try {
        ZoneId.of(z);
      } catch (RuntimeException e) {
        throw invalid("expireZone", zone, "is not a time zone known to Java: " + e.getMessage());
      }
      this.expireZone = z;
      return this;
    }

    public Builder sidPrefix(@Nullable String prefix) {
      this.sidPrefix = prefix;
      return this;
    }

    /**
     * Sets one setting from text, as written in jetty.xml, context.xml or a properties file.
     * Durations are seconds or ISO-8601 ({@code PT15M}); lists are separated by commas.
     */
    public Builder set(String name, String value) {
      String v = value.strip();
      switch (name) {
        case "schema" -> schema(v);
        case "table" -> table(v);
        case "createTable" -> createTable(bool(name, v));
        case "allowedPackages" -> {
          for (String p : v.split("[,\\s]+")) {
            if (!p.isEmpty()) {
              allowPackages(p);
            }
          }
        }
        case "touchFraction" -> touchFraction(number(name, v));
        case "reaperInterval" -> reaperInterval(duration(name, v));
        case "reaperBatchSize" -> reaperBatchSize((int) integer(name, v, Integer.MAX_VALUE));
        case "reaperGrace" -> reaperGrace(duration(name, v));
        case "onUndecodable" -> onUndecodable(policy(v));
        case "maxSessionBytes" -> maxSessionBytes((int) integer(name, v, Integer.MAX_VALUE));
        case "readCacheBytes" -> readCacheBytes(integer(name, v, Long.MAX_VALUE));
        case "expireZone" -> expireZone(v);
        case "sidPrefix" -> sidPrefix(value);
        default -> throw invalid(name, value, "is not a pgsession setting");
      }
      return this;
    }

    /** Applies {@link #set(String, String)} to each entry. */
    public Builder setAll(Map<String, String> settings) {
      settings.forEach(this::set);
      return this;
    }

    public PgSessionConfig build() {
      return new PgSessionConfig(this);
    }

    private static boolean isJdkPackage(String name) {
      for (String jdk : List.of("java", "javax", "jdk", "sun", "com.sun")) {
        if (name.equals(jdk) || name.startsWith(jdk + ".")) {
          return true;
        }
      }
      return false;
    }

    private static String identifier(String setting, String value) {
      require(
          IDENTIFIER.matcher(value).matches(),
          setting,
          value,
          "must be a plain SQL identifier: a letter or underscore, then letters, digits,"
              + " underscores or dollar signs, at most 63 characters");
      return value;
    }

    private static boolean bool(String setting, String v) {
      return switch (v.toLowerCase(Locale.ROOT)) {
        case "true", "yes", "on", "1" -> true;
        case "false", "no", "off", "0" -> false;
        default -> throw invalid(setting, v, "must be true or false");
      };
    }

    private static double number(String setting, String v) {
      try {
        return Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw invalid(setting, v, "must be a number");
      }
    }

    private static long integer(String setting, String v, long max) {
      long n;
      try {
        n = Long.parseLong(v);
      } catch (NumberFormatException e) {
        if (v.matches("-\\d+")) {
          throw invalid(setting, v, "may not be negative");
        }
        if (v.matches("\\+?\\d+")) {
          throw invalid(setting, v, "must be at most " + max);
        }
        throw invalid(setting, v, "must be a whole number");
      }
      if (n > max) {
        throw invalid(setting, v, "must be at most " + max);
      }
      if (n < -max - 1) {
        throw invalid(setting, v, "may not be negative");
      }
      return n;
    }

    private static Duration duration(String setting, String v) {
      Duration d;
      try {
        d =
            v.startsWith("P") || v.startsWith("p")
                ? Duration.parse(v)
                : Duration.ofSeconds(Long.parseLong(v));
      } catch (RuntimeException e) {
        throw invalid(setting, v, "must be a number of seconds or an ISO-8601 duration like PT15M");
      }
      // Checked here as well as by the setting, so that the message quotes the text as written.
      if (d.compareTo(LONGEST_REAPER_DURATION) > 0) {
        throw invalid(setting, v, "may be at most 3650 days");
      }
      return d;
    }

    private static UndecodablePolicy policy(String v) {
      try {
        return UndecodablePolicy.valueOf(v.toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw invalid("onUndecodable", v, "must be NEW_SESSION or FAIL");
      }
    }

    private static void require(boolean ok, String setting, Object value, String rule) {
      if (!ok) {
        throw invalid(setting, value, rule);
      }
    }

    private static PgSessionException invalid(String setting, Object value, String rule) {
      return PgSessionException.badSetting(setting, value, rule);
    }
  }
}
