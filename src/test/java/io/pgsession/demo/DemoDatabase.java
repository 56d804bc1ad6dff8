package io.pgsession.demo;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import org.jspecify.annotations.Nullable;

/**
 * The demo's database: the server named by {@code DSN} or the {@code POSTGRES_*} variables, or else
 * an embedded PostgreSQL whose data stays under {@code target/demo-postgres}, so that a restarted
 * demo finds its sessions. A second demo instance finds the embedded server already running on its
 * port and shares it.
 */
final class DemoDatabase implements AutoCloseable {
  static final int DEFAULT_EMBEDDED_PORT = 54329;

  private final HikariDataSource pool;
  private final @Nullable EmbeddedPostgres embedded;
  private final String description;

  private DemoDatabase(
      HikariDataSource pool, @Nullable EmbeddedPostgres embedded, String description) {
    this.pool = pool;
    this.embedded = embedded;
    this.description = description;
  }

  static DemoDatabase open(Map<String, String> env) throws IOException {
    PgDataSources.Settings configured = PgDataSources.fromEnvironment(env);
    if (configured != null) {
      return new DemoDatabase(
          PgDataSources.create(configured, "pgsession-demo"),
          null,
          PgDataSources.mask(configured.jdbcUrl()) + " (from DSN / POSTGRES_* variables)");
    }
    int port = Integer.parseInt(env.getOrDefault("DEMO_PG_PORT", "" + DEFAULT_EMBEDDED_PORT));
    String url = "jdbc:postgresql://localhost:" + port + "/postgres";
    EmbeddedPostgres started = null;
    String origin = "embedded PostgreSQL started by another demo instance";
    if (!answers(url)) {
      started = startEmbedded(port);
      origin = "embedded PostgreSQL, data in " + dataDirectory();
    }
    PgDataSources.Settings settings = PgDataSources.parse(url, "postgres", null);
    return new DemoDatabase(
        PgDataSources.create(settings, "pgsession-demo"), started, url + " (" + origin + ")");
  }

  private static boolean answers(String url) {
    Properties props = new Properties();
    props.setProperty("user", "postgres");
    props.setProperty("connectTimeout", "2");
    try (Connection c = DriverManager.getConnection(url, props)) {
      return c.isValid(2);
    } catch (SQLException e) {
      return false;
    }
  }

  private static EmbeddedPostgres startEmbedded(int port) throws IOException {
    return EmbeddedPostgres.builder()
        .setDataDirectory(dataDirectory())
        .setCleanDataDirectory(false)
        .setPort(port)
        .start();
  }

  /**
   * {@code target/demo-postgres} of the project, found from where the demo's classes are (in {@code
   * target/test-classes}), so that it does not depend on the directory Maven runs in.
   */
  static Path dataDirectory() {
    try {
      Path classes =
          Path.of(DemoDatabase.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path target = classes.getParent();
      if (target != null && target.getFileName().toString().equals("target")) {
        return target.resolve("demo-postgres");
      }
    } catch (URISyntaxException | RuntimeException e) {
      // not run from a Maven build directory; fall back to the working directory
    }
    return Path.of("target", "demo-postgres").toAbsolutePath();
  }

  HikariDataSource dataSource() {
    return pool;
  }

  /** The JDBC URL and where the database comes from; no password. */
  String description() {
    return description;
  }

  @Override
  public void close() throws IOException {
    pool.close();
    if (embedded != null) {
      embedded.close();
    }
  }
}
