package io.pgsession.testing;

import io.pgsession.PgDataSources;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * The one PostgreSQL server of a test run: the server named by {@code PGSESSION_TEST_URL} (a JDBC
 * URL or DSN, with {@code PGSESSION_TEST_USER} and {@code PGSESSION_TEST_PASSWORD} if needed), else
 * a Testcontainers server where a Docker engine answers, else an embedded PostgreSQL. Each test
 * class gets a database of its own on it.
 */
public final class PostgresServer {
  private static final AtomicInteger DATABASES = new AtomicInteger();
  private static volatile PostgresServer instance;

  private final String baseUrl;
  private final String user;
  private final String password;
  private final String kind;

  private PostgresServer(String baseUrl, String user, String password, String kind) {
    this.baseUrl = baseUrl;
    this.user = user;
    this.password = password;
    this.kind = kind;
  }

  public static PostgresServer get() {
    PostgresServer server = instance;
    if (server == null) {
      synchronized (PostgresServer.class) {
        server = instance;
        if (server == null) {
          server = start();
          instance = server;
        }
      }
    }
    return server;
  }

  private static PostgresServer start() {
    String url = System.getenv("PGSESSION_TEST_URL");
    if (url != null && !url.isBlank()) {
      PgDataSources.Settings s =
          PgDataSources.parse(
              url, System.getenv("PGSESSION_TEST_USER"), System.getenv("PGSESSION_TEST_PASSWORD"));
      return new PostgresServer(s.jdbcUrl(), s.user(), s.password(), "PGSESSION_TEST_URL");
    }
    if (dockerAvailable()) {
      PostgreSQLContainer<?> container = new PostgreSQLContainer<>("postgres:17-alpine");
      container.start();
      return new PostgresServer(
          container.getJdbcUrl(), container.getUsername(), container.getPassword(), "docker");
    }
    try {
      EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      pg.close();
                    } catch (IOException ignored) {
                      // the JVM is exiting; the data directory is temporary
                    }
                  }));
      return new PostgresServer(
          pg.getJdbcUrl("postgres", "postgres"), "postgres", "postgres", "embedded");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start an embedded PostgreSQL", e);
    }
  }

  private static boolean dockerAvailable() {
    String host = System.getenv("DOCKER_HOST");
    boolean socket = java.nio.file.Files.exists(java.nio.file.Path.of("/var/run/docker.sock"));
    if ((host == null || host.isBlank()) && !socket) {
      return false;
    }
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  /** Where the server came from: PGSESSION_TEST_URL, docker or embedded. */
  public String kind() {
    return kind;
  }

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  /** The JDBC URL of the server's default database. */
  public String baseUrl() {
    return baseUrl;
  }

  /** Creates a new, empty database and returns its JDBC URL. */
  public String createDatabase(String prefix) {
    String name =
        (prefix.toLowerCase().replaceAll("[^a-z0-9_]", "_") + "_" + DATABASES.incrementAndGet());
    if (name.length() > 60) {
      name = name.substring(name.length() - 60);
    }
    try (var ds = PgDataSources.create(settings(baseUrl), "pgsession-test-admin");
        Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS \"" + name + "\"");
      s.execute("CREATE DATABASE \"" + name + "\"");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database " + name, e);
    }
    return withDatabase(baseUrl, name);
  }

  /** Settings for a URL on this server, with its user and password. */
  public PgDataSources.Settings settings(String jdbcUrl) {
    return PgDataSources.parse(jdbcUrl, user, password);
  }

  static String withDatabase(String url, String database) {
    int q = url.indexOf('?');
    String head = q < 0 ? url : url.substring(0, q);
    String tail = q < 0 ? "" : url.substring(q);
    int slash = head.indexOf('/', "jdbc:postgresql://".length());
    return head.substring(0, slash + 1) + database + tail;
  }
}
