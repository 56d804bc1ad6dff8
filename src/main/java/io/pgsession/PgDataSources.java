package io.pgsession;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Builds a HikariCP pool for PostgreSQL from a JDBC URL, a libpq-style DSN ({@code
 * postgres://user:pass@host:5432/db?sslmode=require}) or the environment ({@code DSN}, or {@code
 * POSTGRES_HOST}, {@code POSTGRES_PORT}, {@code POSTGRES_USER}, {@code POSTGRES_PASSWORD}, {@code
 * POSTGRES_DB}, {@code POSTGRES_SSLMODE}).
 *
 * <p>The pool fails fast: a request waits at most {@link Settings#connectionTimeout()} for a
 * connection, and the pool starts even while the database is down, connecting once it is up.
 * Passwords never appear in {@code toString()}, logs or exception messages.
 */
public final class PgDataSources {
  private static final Pattern PASSWORD_PARAM = Pattern.compile("(?i)(password=)[^&;]*");
  // Up to the last '@': a password may hold '@', '/' or '?' when a DSN was written without
  // percent-encoding it; masking too much of a URL in a message is harmless.
  private static final Pattern USERINFO = Pattern.compile("(://[^/:@?#]*:)\\S*@");

  /** The longest wait for a connection pgsession accepts; the driver counts it in whole seconds. */
  private static final Duration MAX_CONNECTION_TIMEOUT = Duration.ofDays(1);

  private static final Duration MIN_CONNECTION_TIMEOUT = Duration.ofMillis(250);

  private static final String TIMEOUT_RANGE = "must be from 250 ms to one day";

  private PgDataSources() {}

  /** Connection settings; {@code toString()} masks the password. */
  public record Settings(
      String jdbcUrl,
      @Nullable String user,
      @Nullable String password,
      int maxPoolSize,
      Duration connectionTimeout) {
    public Settings {
      Objects.requireNonNull(jdbcUrl, "jdbcUrl");
      if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
        throw PgSessionException.badSetting(
            "jdbcUrl", mask(jdbcUrl), "is not a jdbc:postgresql: URL");
      }
      if (maxPoolSize < 1) {
        throw PgSessionException.badSetting("maxPoolSize", maxPoolSize, "must be at least 1");
      }
      if (!isConnectionTimeout(connectionTimeout)) {
        throw PgSessionException.badSetting("connectionTimeout", connectionTimeout, TIMEOUT_RANGE);
      }
    }

    public Settings withUser(@Nullable String user, @Nullable String password) {
      return new Settings(jdbcUrl, user, password, maxPoolSize, connectionTimeout);
    }

    /**
     * These settings with a user and a password that were configured beside them: each one given
     * (not blank) wins, each one not given keeps what these settings had, so that a password set
     * alone leaves the DSN's user in place.
     */
    public Settings overriddenBy(@Nullable String user, @Nullable String password) {
      return withUser(
          blankToNull(user) != null ? user : this.user,
          password != null && !password.isEmpty() ? password : this.password);
    }

    public Settings withPool(int maxPoolSize, Duration connectionTimeout) {
      return new Settings(jdbcUrl, user, password, maxPoolSize, connectionTimeout);
    }

    @Override
    public String toString() {
      return "jdbcUrl="
          + mask(jdbcUrl)
          + ", user="
          + user
          + ", password="
          + (password == null ? "(none)" : "****")
          + ", maxPoolSize="
          + maxPoolSize
          + ", connectionTimeout="
          + connectionTimeout;
    }
  }

  /** Default pool size. */
  public static final int DEFAULT_POOL_SIZE = 10;

  /** Default time a request waits for a connection before it fails. */
  public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(5);

  /** {@code maxPoolSize} as jetty.xml or context.xml gives it; a bad value fails, naming it. */
  public static int poolSize(String text) {
    int size;
    try {
      size = Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw PgSessionException.badSetting(
          "maxPoolSize", text, "must be a whole number of connections");
    }
    if (size < 1) {
      throw PgSessionException.badSetting("maxPoolSize", text, "must be at least 1");
    }
    return size;
  }

  /**
   * {@code connectionTimeout} as text: seconds ({@code 2.5}) or ISO-8601 ({@code PT2.5S}), at least
   * 250 ms; a bad value fails, naming it.
   */
  public static Duration connectionTimeout(String text) {
    String v = text.strip();
    Duration timeout;
    try {
      // NaN rounds to 0 and infinities to the extremes, which the range check below refuses.
      timeout =
          v.startsWith("P") || v.startsWith("p")
              ? Duration.parse(v)
              : Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
    } catch (DateTimeParseException | NumberFormatException e) {
      throw PgSessionException.badSetting(
          "connectionTimeout", text, "must be seconds or an ISO-8601 duration like PT5S");
    }
    if (!isConnectionTimeout(timeout)) {
      throw PgSessionException.badSetting("connectionTimeout", text, TIMEOUT_RANGE);
    }
    return timeout;
  }

  private static boolean isConnectionTimeout(Duration timeout) {
    // Compared, not converted: toMillis() overflows on the longest durations.
    return timeout.compareTo(MIN_CONNECTION_TIMEOUT) >= 0
        && timeout.compareTo(MAX_CONNECTION_TIMEOUT) <= 0;
  }

  /**
   * Settings from a JDBC URL ({@code jdbc:postgresql://...}) or a DSN ({@code postgres://} or
   * {@code postgresql://}). A user or password given here wins over one in the DSN.
   */
  public static Settings parse(String urlOrDsn, @Nullable String user, @Nullable String password) {
    String text = urlOrDsn.strip();
    Settings settings;
    if (text.startsWith("postgres://") || text.startsWith("postgresql://")) {
      settings = fromDsn(text);
    } else {
      // The driver lets a URL's own user and password win over those it is given beside it; a
      // user or password given here must win, so the URL's is taken out.
      if (blankToNull(user) != null) {
        text = withoutParameter(text, "user");
      }
      if (password != null && !password.isEmpty()) {
        text = withoutParameter(text, "password");
      }
      settings = new Settings(text, null, null, DEFAULT_POOL_SIZE, DEFAULT_CONNECTION_TIMEOUT);
    }
    return settings.overriddenBy(user, password);
  }

  /**
   * Settings from the environment, or {@code null} when it names no database: {@code DSN} if set,
   * else the {@code POSTGRES_*} variables if {@code POSTGRES_HOST} or {@code POSTGRES_DB} is.
   */
  public static @Nullable Settings fromEnvironment(Map<String, String> env) {
    String dsn = blankToNull(env.get("DSN"));
    if (dsn != null) {
      return parse(dsn, null, null);
    }
    if (blankToNull(env.get("POSTGRES_HOST")) == null
        && blankToNull(env.get("POSTGRES_DB")) == null) {
      return null;
    }
    // Compose files often pass a variable through empty; that means "use the default".
    String host = orDefault(env.get("POSTGRES_HOST"), "localhost");
    String port = orDefault(env.get("POSTGRES_PORT"), "5432");
    String user = orDefault(env.get("POSTGRES_USER"), "postgres");
    String db = orDefault(env.get("POSTGRES_DB"), user);
    String sslmode = blankToNull(env.get("POSTGRES_SSLMODE"));
    String url =
        "jdbc:postgresql://"
            + host
            + ":"
            + port
            + "/"
            + db
            + (sslmode == null ? "" : "?sslmode=" + sslmode);
    return new Settings(
        url, user, env.get("POSTGRES_PASSWORD"), DEFAULT_POOL_SIZE, DEFAULT_CONNECTION_TIMEOUT);
  }

  /** A started pool for these settings; the caller closes it. */
  public static HikariDataSource create(Settings settings, String poolName) {
    HikariConfig hikari = new HikariConfig();
    hikari.setPoolName(poolName);
    hikari.setJdbcUrl(settings.jdbcUrl());
    // Named rather than looked up in DriverManager, which registers drivers once per JVM and
    // could hand over a web application's copy; in the bundle this is the relocated driver.
    hikari.setDriverClassName(org.postgresql.Driver.class.getName());
    if (settings.user() != null) {
      hikari.setUsername(settings.user());
    }
    if (settings.password() != null) {
      hikari.setPassword(settings.password());
    }
    hikari.setMaximumPoolSize(settings.maxPoolSize());
    hikari.setMinimumIdle(Math.min(2, settings.maxPoolSize()));
    hikari.setConnectionTimeout(settings.connectionTimeout().toMillis());
    hikari.setValidationTimeout(Math.min(settings.connectionTimeout().toMillis(), 2000));
    // Start even while the database is down: connections are made when it is back.
    hikari.setInitializationFailTimeout(-1);
    defaultProperty(hikari, settings, "ApplicationName", "pgsession");
    defaultProperty(
        hikari,
        settings,
        "connectTimeout",
        String.valueOf(Math.max(1, settings.connectionTimeout().toSeconds())));
    defaultProperty(hikari, settings, "socketTimeout", "60");
    defaultProperty(hikari, settings, "tcpKeepAlive", "true");
    return new HikariDataSource(hikari);
  }

  private static void defaultProperty(
      HikariConfig hikari, Settings settings, String name, String value) {
    if (!settings.jdbcUrl().contains(name + "=")) {
      hikari.addDataSourceProperty(name, value);
    }
  }

  /** The URL with any password in it replaced by {@code ****}. */
  public static String mask(String url) {
    String masked = PASSWORD_PARAM.matcher(url).replaceAll("$1****");
    return USERINFO.matcher(masked).replaceAll("$1****@");
  }

  /** {@code url} without its query parameter {@code name} (any case), wherever it stands. */
  private static String withoutParameter(String url, String name) {
    int q = url.indexOf('?');
    if (q < 0) {
      return url;
    }
    StringBuilder kept = new StringBuilder();
    for (String pair : url.substring(q + 1).split("&")) {
      String key = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
      if (!key.equalsIgnoreCase(name) && !pair.isEmpty()) {
        kept.append(kept.length() == 0 ? "" : "&").append(pair);
      }
    }
    return url.substring(0, q) + (kept.length() == 0 ? "" : "?" + kept);
  }

  private static Settings fromDsn(String dsn) {
    String rest = dsn.substring(dsn.indexOf("://") + 3);
    refuseRawReservedInUserInfo(rest);
    String query = "";
    int q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    String path = "";
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      path = rest.substring(slash + 1);
      rest = rest.substring(0, slash);
    }
    String user = null;
    String password = null;
    int at = rest.lastIndexOf('@');
    if (at >= 0) {
      String userInfo = rest.substring(0, at);
      rest = rest.substring(at + 1);
      int colon = userInfo.indexOf(':');
      user = decode(colon >= 0 ? userInfo.substring(0, colon) : userInfo);
      password = colon >= 0 ? decode(userInfo.substring(colon + 1)) : null;
    }
    String hosts = rest.isEmpty() ? "localhost" : rest;
    String database = decode(path);
    StringBuilder url = new StringBuilder("jdbc:postgresql://").append(hosts).append('/');
    url.append(database.isEmpty() ? (user == null ? "postgres" : user) : path);
    Map<String, String> params = new LinkedHashMap<>();
    for (String pair : query.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = eq >= 0 ? pair.substring(0, eq) : pair;
      String value = eq >= 0 ? pair.substring(eq + 1) : "";
      switch (key) {
        case "user" -> user = decode(value);
        case "password" -> password = decode(value);
        case "connect_timeout" -> params.put("connectTimeout", value);
        case "application_name" -> params.put("ApplicationName", value);
        // libpq's names for what the driver calls otherwise; passed on as written, the driver
        // would ignore them, and a required channel binding would be dropped without a word.
        case "channel_binding" -> params.put("channelBinding", value);
        case "target_session_attrs" -> params.put("targetServerType", targetServerType(value));
        default -> params.put(key, value);
      }
    }
    char sep = '?';
    for (Map.Entry<String, String> p : params.entrySet()) {
      url.append(sep).append(p.getKey()).append('=').append(p.getValue());
      sep = '&';
    }
    return new Settings(
        url.toString(), user, password, DEFAULT_POOL_SIZE, DEFAULT_CONNECTION_TIMEOUT);
  }

  private static String decode(String text) {
    try {
      return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      // The decoder's message quotes the characters after the '%', which may be a password's.
      throw new PgSessionException(
          "configure",
          null,
          "setting jdbcUrl: a DSN's user, password or database holds a '%' that is not followed"
              + " by two hex digits; write '%' as %25");
    }
  }

  /**
   * Refuses a DSN whose user or password holds '/', '?' or '#' as it is: the parser would cut the
   * DSN there and take part of the password for the host, which then shows in logs. A host and port
   * have only digits after a ':' (an IPv6 address stands in brackets), so a ':' followed by
   * anything else before the first '/' or '?', with an '@' further on, is such a password.
   */
  private static void refuseRawReservedInUserInfo(String afterScheme) {
    int end = afterScheme.length();
    for (char c : new char[] {'/', '?', '#'}) {
      int i = afterScheme.indexOf(c);
      if (i >= 0) {
        end = Math.min(end, i);
      }
    }
    String authority = afterScheme.substring(0, end);
    if (authority.contains("@") || afterScheme.indexOf('@', end) < 0) {
      return;
    }
    for (String host : authority.replaceAll("\\[[^]]*]", "").split(",")) {
      int colon = host.indexOf(':');
      if (colon >= 0 && !host.substring(colon + 1).matches("\\d*")) {
        throw new PgSessionException(
            "configure",
            null,
            "setting jdbcUrl: a DSN's user or password holds '/', '?' or '#' as it is; write them"
                + " percent-encoded (%2F, %3F, %23), and '@' as %40, '%' as %25");
      }
    }
  }

  /** libpq's {@code target_session_attrs} as the driver's {@code targetServerType}. */
  private static String targetServerType(String attrs) {
    return switch (attrs) {
      case "any" -> "any";
      case "read-write", "primary" -> "primary";
      case "read-only", "standby" -> "secondary";
      case "prefer-standby" -> "preferSecondary";
      default ->
          throw new PgSessionException(
              "configure",
              null,
              "setting jdbcUrl: target_session_attrs = '"
                  + attrs
                  + "' is not one of any, read-write, read-only, primary, standby,"
                  + " prefer-standby");
    };
  }

  private static String orDefault(@Nullable String value, String fallback) {
    String v = blankToNull(value);
    return v == null ? fallback : v;
  }

  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
