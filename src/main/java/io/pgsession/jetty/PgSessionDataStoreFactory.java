package io.pgsession.jetty;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionReaper;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.naming.InitialContext;
import javax.naming.NamingException;
import javax.sql.DataSource;
import org.eclipse.jetty.session.AbstractSessionDataStoreFactory;
import org.eclipse.jetty.session.SessionManager;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a {@link PgSessionDataStore} for each web application, configured with plain setters so
 * that it works from code and from jetty.xml alike.
 *
 * <p>The database is, in this order: the {@link #setDataSource DataSource} given, the one bound in
 * JNDI under {@link #setDataSourceJndiName dataSourceJndiName}, a HikariCP pool built from {@link
 * #setJdbcUrl jdbcUrl} (a JDBC URL or a {@code postgres://} DSN) with {@link #setUser user} and
 * {@link #setPassword password}, or else a pool built from the environment ({@code DSN} or {@code
 * POSTGRES_HOST}, {@code POSTGRES_PORT}, {@code POSTGRES_USER}, {@code POSTGRES_PASSWORD}, {@code
 * POSTGRES_DB}).
 *
 * <p>All stores this factory made share one data source and one {@link SessionReaper}; both start
 * with the first store and stop with the last. A pool the factory built is closed then; a data
 * source the user gave is never closed. Each pgsession setting ({@code schema}, {@code table},
 * {@code allowedPackages}, {@code touchFraction}...) is validated by {@link
 * PgSessionConfig.Builder#set} as soon as it is set.
 *
 * <p>Jetty's {@code gracePeriodSec} defaults here to {@value #DEFAULT_GRACE_PERIOD_SEC} seconds
 * (Jetty's own default is an hour): it is how long after their expiry sessions of other nodes wait
 * before this node expires them, and it must stay well below {@code reaperGrace}, after which the
 * reaper deletes rows without listeners firing.
 */
public final class PgSessionDataStoreFactory extends AbstractSessionDataStoreFactory {
  /** The default of Jetty's {@code gracePeriodSec} for pgsession stores. */
  public static final int DEFAULT_GRACE_PERIOD_SEC = 60;

  private static final Logger log = LoggerFactory.getLogger(PgSessionDataStoreFactory.class);

  private @Nullable String jdbcUrl;
  private @Nullable String user;
  private @Nullable String password;
  private @Nullable DataSource dataSource;
  private @Nullable String dataSourceJndiName;
  private int maxPoolSize = PgDataSources.DEFAULT_POOL_SIZE;
  private Duration connectionTimeout = PgDataSources.DEFAULT_CONNECTION_TIMEOUT;
  private PgSessionConfig baseConfig = PgSessionConfig.defaults();
  private final Map<String, String> settings = new LinkedHashMap<>();
  private final Shared shared = new Shared();

  public PgSessionDataStoreFactory() {
    setGracePeriodSec(DEFAULT_GRACE_PERIOD_SEC);
  }

  @Override
  public PgSessionDataStore getSessionDataStore(SessionManager manager) {
    PgSessionDataStore store = new PgSessionDataStore(config(), shared);
    store.setGracePeriodSec(getGracePeriodSec());
    store.setSavePeriodSec(getSavePeriodSec());
    return store;
  }

  /** The pgsession configuration the stores get: the base configuration with the settings. */
  public PgSessionConfig config() {
    return baseConfig.toBuilder().setAll(settings).build();
  }

  // ---------------------------------------------------------------- connection

  /** A JDBC URL ({@code jdbc:postgresql://...}) or a DSN ({@code postgres://user:pw@host/db}). */
  public void setJdbcUrl(@Nullable String jdbcUrl) {
    this.jdbcUrl = blankToNull(jdbcUrl);
  }

  public void setUser(@Nullable String user) {
    this.user = blankToNull(user);
  }

  public void setPassword(@Nullable String password) {
    this.password = password == null || password.isEmpty() ? null : password;
  }

  /** The application's own data source, which the factory uses and never closes. */
  public void setDataSource(@Nullable DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** A JNDI name ({@code java:comp/env/jdbc/sessions}) bound to a {@link DataSource}. */
  public void setDataSourceJndiName(@Nullable String name) {
    this.dataSourceJndiName = blankToNull(name);
  }

  /** The size of the pool the factory builds from a URL or the environment. */
  public void setMaxPoolSize(int maxPoolSize) {
    if (maxPoolSize < 1) {
      throw invalid("maxPoolSize", String.valueOf(maxPoolSize), "must be at least 1");
    }
    this.maxPoolSize = maxPoolSize;
  }

  /** The pool size as jetty.xml writes it; text that is not a whole number fails, naming it. */
  public void setMaxPoolSize(String maxPoolSize) {
    setMaxPoolSize(PgDataSources.poolSize(maxPoolSize));
  }

  /**
   * How long a request waits for a connection before it fails: seconds, or ISO-8601 ({@code
   * PT2.5S}); at least 250 ms.
   */
  public void setConnectionTimeout(String timeout) {
    this.connectionTimeout = PgDataSources.connectionTimeout(timeout);
  }

  // ---------------------------------------------------------------- pgsession settings

  /** The configuration the settings below are applied to; {@link PgSessionConfig#defaults()}. */
  public void setConfig(PgSessionConfig config) {
    this.baseConfig = config;
  }

  public void setSchema(String schema) {
    set("schema", schema);
  }

  public void setTable(String table) {
    set("table", table);
  }

  public void setCreateTable(boolean createTable) {
    set("createTable", String.valueOf(createTable));
  }

  /**
   * {@code true}, {@code yes}, {@code on} or {@code 1}, or their opposites; anything else fails.
   * jetty.xml and the module's properties come to this and the other setters taking text, so that a
   * misspelt value stops the start with a message naming the setting, instead of reading as {@code
   * false} or failing as a bare number format error.
   */
  public void setCreateTable(String createTable) {
    set("createTable", createTable);
  }

  /** Packages whose classes may be stored, separated by commas or spaces. */
  public void setAllowedPackages(String packages) {
    set("allowedPackages", packages);
  }

  public void setTouchFraction(double touchFraction) {
    set("touchFraction", String.valueOf(touchFraction));
  }

  public void setTouchFraction(String touchFraction) {
    set("touchFraction", touchFraction);
  }

  /** Seconds or ISO-8601 ({@code PT15M}); {@code 0} turns the reaper off. */
  public void setReaperInterval(String interval) {
    set("reaperInterval", interval);
  }

  /** Seconds or ISO-8601 ({@code PT30M}). */
  public void setReaperGrace(String grace) {
    set("reaperGrace", grace);
  }

  public void setReaperBatchSize(int size) {
    set("reaperBatchSize", String.valueOf(size));
  }

  public void setReaperBatchSize(String size) {
    set("reaperBatchSize", size);
  }

  /** {@code NEW_SESSION} or {@code FAIL}. */
  public void setOnUndecodable(String policy) {
    set("onUndecodable", policy);
  }

  public void setMaxSessionBytes(int bytes) {
    set("maxSessionBytes", String.valueOf(bytes));
  }

  public void setMaxSessionBytes(String bytes) {
    set("maxSessionBytes", bytes);
  }

  public void setReadCacheBytes(long bytes) {
    set("readCacheBytes", String.valueOf(bytes));
  }

  public void setReadCacheBytes(String bytes) {
    set("readCacheBytes", bytes);
  }

  public void setExpireZone(String zone) {
    set("expireZone", zone);
  }

  /** Replaces the per-context default prefix of row keys; see {@link PgSessionDataStore}. */
  public void setSidPrefix(String prefix) {
    set("sidPrefix", prefix);
  }

  private void set(String name, String value) {
    PgSessionConfig.builder().set(name, value);
    settings.put(name, value);
  }

  // ---------------------------------------------------------------- shared resources

  /** Opens the data source and the reaper for the first store; closes them after the last. */
  private final class Shared implements SharedResources {
    private int users;
    private @Nullable DataSource active;
    private @Nullable HikariDataSource ownPool;
    private @Nullable SessionReaper reaper;
    private String description = "";

    @Override
    public synchronized DataSource acquire() {
      if (users == 0) {
        open();
      }
      users++;
      DataSource ds = active;
      if (ds == null) {
        throw new IllegalStateException("pgsession data source is not open");
      }
      return ds;
    }

    @Override
    public synchronized void release() {
      if (users == 0) {
        return;
      }
      users--;
      if (users == 0) {
        close();
      }
    }

    private void open() {
      PgSessionConfig config = config();
      DataSource ds = resolveDataSource();
      PgSessionStore reaperStore =
          new PgSessionStore(ds, config, PgSessionDataStoreFactory.class.getClassLoader());
      active = ds;
      reaper = SessionReaper.start(reaperStore);
      log.info(
          "pgsession[{}] Jetty session store started: {}, {}, gracePeriodSec={},"
              + " savePeriodSec={}",
          reaperStore.tableName(),
          description,
          config,
          getGracePeriodSec(),
          getSavePeriodSec());
      warnIfReaperOvertakesJetty(config, reaperStore.tableName());
    }

    private void close() {
      SessionReaper r = reaper;
      if (r != null) {
        r.close();
      }
      HikariDataSource pool = ownPool;
      if (pool != null) {
        pool.close();
      }
      log.info("pgsession Jetty session store stopped ({})", description);
      reaper = null;
      ownPool = null;
      active = null;
    }

    private DataSource resolveDataSource() {
      DataSource given = dataSource;
      if (given != null) {
        description = "dataSource=" + given.getClass().getName() + " (the application's)";
        return given;
      }
      if (dataSourceJndiName != null) {
        description = "dataSourceJndiName=" + dataSourceJndiName;
        return lookup(dataSourceJndiName);
      }
      PgDataSources.Settings s = connectionSettings(System.getenv());
      description = s.toString();
      HikariDataSource pool = PgDataSources.create(s, "pgsession-jetty");
      ownPool = pool;
      return pool;
    }
  }

  /** Where to connect: {@code jdbcUrl}, else the database {@code env} names. */
  PgDataSources.Settings connectionSettings(Map<String, String> env) {
    PgDataSources.Settings s;
    if (jdbcUrl != null) {
      s = PgDataSources.parse(jdbcUrl, user, password);
    } else {
      s = PgDataSources.fromEnvironment(env);
      if (s == null) {
        throw new PgSessionException(
            "configure",
            null,
            "no database is configured: set jdbcUrl (with user and password), dataSource or"
                + " dataSourceJndiName on PgSessionDataStoreFactory (jetty.session.pgsession.*"
                + " properties in the Jetty module), or the DSN or POSTGRES_* environment"
                + " variables");
      }
      s = s.overriddenBy(user, password);
    }
    return s.withPool(maxPoolSize, connectionTimeout);
  }

  private static DataSource lookup(String name) {
    try {
      Object found = new InitialContext().lookup(name);
      if (found instanceof DataSource ds) {
        return ds;
      }
      throw invalid(
          "dataSourceJndiName",
          name,
          "names a "
              + (found == null ? "null" : found.getClass().getName())
              + ", not a DataSource");
    } catch (NamingException e) {
      throw new PgSessionException(
          "configure",
          null,
          "setting dataSourceJndiName = '" + name + "' cannot be looked up: " + e.getMessage(),
          e);
    }
  }

  private void warnIfReaperOvertakesJetty(PgSessionConfig config, String table) {
    long firstCheck = 3L * getGracePeriodSec();
    if (!config.reaperInterval().isZero() && firstCheck >= config.reaperGrace().toSeconds()) {
      log.warn(
          "pgsession[{}] gracePeriodSec={} is long against reaperGrace={}: sessions of stopped"
              + " nodes may be deleted by the reaper before Jetty expires them, and their"
              + " HttpSessionListeners would not fire; lower gracePeriodSec or raise reaperGrace",
          table,
          getGracePeriodSec(),
          config.reaperGrace());
    }
  }

  private static PgSessionException invalid(String setting, String value, String rule) {
    return PgSessionException.badSetting(setting, value, rule);
  }

  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s.strip();
  }
}
