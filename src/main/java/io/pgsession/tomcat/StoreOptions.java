package io.pgsession.tomcat;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import javax.naming.InitialContext;
import javax.naming.NamingException;
import javax.sql.DataSource;
import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Engine;
import org.apache.catalina.Server;
import org.jspecify.annotations.Nullable;

/**
 * The context.xml attributes shared by {@link PgSessionManager} and {@link PgStore}: where the
 * database is, and the core settings as text. Not thread-safe; Tomcat sets attributes before it
 * starts the component.
 */
final class StoreOptions {
  private @Nullable String jdbcUrl;
  private @Nullable String user;
  private @Nullable String password;
  private @Nullable String dataSourceName;
  // As written in context.xml; checked when the configuration is built, because Tomcat only logs
  // what a setter throws and goes on with the default.
  private @Nullable String maxPoolSize;
  private @Nullable String connectionTimeout;
  private @Nullable DataSource dataSource;
  private @Nullable PgSessionConfig config;
  private final Map<String, String> settings = new LinkedHashMap<>();
  private final Set<String> unknown = new LinkedHashSet<>();

  void jdbcUrl(@Nullable String value) {
    this.jdbcUrl = value;
  }

  void user(@Nullable String value) {
    this.user = value;
  }

  void password(@Nullable String value) {
    this.password = value;
  }

  void dataSourceName(@Nullable String value) {
    this.dataSourceName = value;
  }

  void maxPoolSize(@Nullable String value) {
    this.maxPoolSize = value;
  }

  void connectionTimeout(@Nullable String value) {
    this.connectionTimeout = value;
  }

  private int poolSize() {
    return maxPoolSize == null
        ? PgDataSources.DEFAULT_POOL_SIZE
        : PgDataSources.poolSize(maxPoolSize);
  }

  private Duration timeout() {
    return connectionTimeout == null
        ? PgDataSources.DEFAULT_CONNECTION_TIMEOUT
        : PgDataSources.connectionTimeout(connectionTimeout);
  }

  void dataSource(@Nullable DataSource value) {
    this.dataSource = value;
  }

  void config(@Nullable PgSessionConfig value) {
    this.config = value;
  }

  /** Records a core setting; it is validated when the store is built. */
  void set(String name, @Nullable String value) {
    if (value == null) {
      settings.remove(name);
    } else {
      settings.put(name, value);
    }
  }

  @Nullable String get(String name) {
    return settings.get(name);
  }

  /**
   * Records an attribute that names no setting (Tomcat hands such attributes to {@code
   * setProperty}), so that the start fails naming it. Its value is not kept: a misspelt password
   * attribute must not reach a message.
   */
  void unknown(String name) {
    unknown.add(name);
  }

  /** The core configuration: the one given in code, with the text settings applied on top. */
  PgSessionConfig buildConfig() {
    if (!unknown.isEmpty()) {
      throw new PgSessionException(
          "configure",
          null,
          "context.xml names attributes pgsession does not have: "
              + String.join(", ", unknown)
              + " (names are case-sensitive; see the configuration reference)");
    }
    // The connection settings are checked here too, so that a bad one stops the start even where
    // a data source is given and they are not used.
    poolSize();
    timeout();
    PgSessionConfig.Builder builder =
        config == null ? PgSessionConfig.builder() : config.toBuilder();
    return builder.setAll(settings).build();
  }

  /** Where the connections come from; the pool it opens, if any, is the caller's to close. */
  Connections connect(Context context, String poolName) {
    if (dataSource != null) {
      return new Connections(dataSource, null, "a DataSource given in code");
    }
    if (dataSourceName != null && !dataSourceName.isBlank()) {
      return new Connections(lookup(context, dataSourceName.strip()), null, dataSourceName);
    }
    PgDataSources.Settings parsed = settings(System.getenv());
    HikariDataSource pool = withLibraryLoader(() -> PgDataSources.create(parsed, poolName));
    return new Connections(pool, pool, parsed.toString());
  }

  /**
   * Runs {@code action} with pgsession's own class loader as the thread's context class loader.
   * Threads started meanwhile (the pool's housekeeper, the reaper) inherit it; with the web
   * application's, they would keep that loader reachable until they end, and Tomcat reports them as
   * leaks when the context stops before they have ended.
   */
  static <T> T withLibraryLoader(Supplier<T> action) {
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(StoreOptions.class.getClassLoader());
    try {
      return action.get();
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  /** Where to connect: the jdbcUrl attribute, else the database {@code env} names. */
  PgDataSources.Settings settings(Map<String, String> env) {
    PgDataSources.Settings parsed;
    if (jdbcUrl != null && !jdbcUrl.isBlank()) {
      parsed = PgDataSources.parse(jdbcUrl, user, password);
    } else {
      parsed = PgDataSources.fromEnvironment(env);
      if (parsed == null) {
        throw new PgSessionException(
            "configure",
            null,
            "no database is set: give the Manager or Store a jdbcUrl (or DSN) attribute, a"
                + " dataSourceName naming a JNDI DataSource, or set DSN or POSTGRES_HOST in the"
                + " environment");
      }
      parsed = parsed.overriddenBy(user, password);
    }
    return parsed.withPool(poolSize(), timeout());
  }

  /**
   * Looks a DataSource up in the web application's naming context, then in the server's. The
   * two-argument bind is the form both Tomcat 10.1 and 11 have; 11 deprecates it.
   */
  @SuppressWarnings("deprecation")
  private static DataSource lookup(Context context, String name) {
    ClassLoader previous = context.bind(false, null);
    try {
      Object found =
          new InitialContext().lookup(name.startsWith("java:") ? name : "java:comp/env/" + name);
      return asDataSource(name, found);
    } catch (NamingException inContext) {
      return lookupGlobal(context, name, inContext);
    } finally {
      context.unbind(false, previous);
    }
  }

  private static DataSource lookupGlobal(Context context, String name, NamingException first) {
    Server server = serverOf(context);
    javax.naming.Context global = server == null ? null : server.getGlobalNamingContext();
    if (global != null) {
      try {
        return asDataSource(name, global.lookup(name));
      } catch (NamingException e) {
        first.addSuppressed(e);
      }
    }
    throw new PgSessionException(
        "configure",
        null,
        "setting dataSourceName = '"
            + name
            + "' names no DataSource in the web application's naming context (java:comp/env) nor"
            + " in the server's global resources; declare it as a <Resource> or use jdbcUrl",
        first);
  }

  private static DataSource asDataSource(String name, Object found) {
    if (found instanceof DataSource ds) {
      return ds;
    }
    throw new PgSessionException(
        "configure",
        null,
        "setting dataSourceName = '"
            + name
            + "' names a "
            + found.getClass().getName()
            + ", not a javax.sql.DataSource");
  }

  private static @Nullable Server serverOf(Context context) {
    for (Container c = context; c != null; c = c.getParent()) {
      if (c instanceof Engine engine && engine.getService() != null) {
        return engine.getService().getServer();
      }
    }
    return null;
  }

  /** A store over this configuration's database, resolving classes with {@code loader}. */
  static PgSessionStore store(Connections connections, PgSessionConfig config, ClassLoader loader) {
    return new PgSessionStore(connections.dataSource(), config, loader);
  }

  /** A data source, the pool pgsession opened for it (to close at stop), and how to name it. */
  record Connections(DataSource dataSource, @Nullable HikariDataSource owned, String described) {
    void close() {
      if (owned != null) {
        owned.close();
      }
    }
  }
}
