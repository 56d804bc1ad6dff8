package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.testing.PostgresExtension;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Passwords in a DSN or JDBC URL never reach a log line or an exception message, whether the
 * password is wrong or the server is down; TLS settings reach the driver, and a TLS demand on a
 * server without TLS fails saying so.
 */
class SecretsAndTlsTest {
  private static final String SECRET = "Tr0ub4dor-and-3-horses";
  private static final String ROLE = "app";
  private static final String ROLE_PASSWORD = "the-right-one-9";

  @RegisterExtension static PostgresExtension pg = new PostgresExtension();
  private static RestartablePostgres withPasswords;

  @BeforeAll
  static void serverThatChecksPasswords() throws Exception {
    withPasswords =
        RestartablePostgres.start("passwords", SecretsAndTlsTest::passwordAuthentication);
    try (HikariDataSource admin =
            PgDataSources.create(withPasswords.settings(1, Duration.ofSeconds(5)), "admin");
        Connection c = admin.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + ROLE_PASSWORD + "'");
    }
  }

  @AfterAll
  static void stop() {
    withPasswords.close();
  }

  /** The superuser stays trusted (the embedded server's own checks use it); others need SCRAM. */
  private static void passwordAuthentication(java.io.File dataDirectory) {
    try {
      Files.writeString(
          Path.of(dataDirectory.getPath(), "pg_hba.conf"),
          String.join(
              "\n",
              "local all all trust",
              "host all postgres 127.0.0.1/32 trust",
              "host all postgres ::1/128 trust",
              "host all all 127.0.0.1/32 scram-sha-256",
              "host all all ::1/128 scram-sha-256",
              ""));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"dsn", "url-parameter", "separate"})
  void aWrongPasswordNeverAppearsInTheErrorOrTheLogs(String form) {
    String text =
        failure(connectionText(form, withPasswords.port()), Duration.ofSeconds(2)).everything();

    assertThat(text).contains("password authentication failed").doesNotContain(SECRET);
  }

  @ParameterizedTest
  @ValueSource(strings = {"dsn", "url-parameter", "separate"})
  void aPasswordForAServerThatIsDownNeverAppearsInTheErrorOrTheLogs(String form) {
    String text =
        failure(connectionText(form, RestartablePostgres.freePort()), Duration.ofMillis(500))
            .everything();

    assertThat(text).contains("cannot reach the database").doesNotContain(SECRET);
  }

  @Test
  void settingsAndThePoolNeverShowThePassword() {
    PgDataSources.Settings dsn = PgDataSources.parse(dsn(5432) + "&application_name=x", null, null);
    PgDataSources.Settings url = PgDataSources.parse(urlWithPassword(5432), null, null);

    assertThat(dsn.password()).isEqualTo(SECRET);
    assertThat(dsn.toString()).doesNotContain(SECRET);
    assertThat(url.toString()).doesNotContain(SECRET);
    assertThat(PgDataSources.mask(urlWithPassword(5432))).doesNotContain(SECRET);
  }

  @Test
  void sslModesOfADsnReachTheDriver() {
    PgDataSources.Settings require =
        PgDataSources.parse("postgres://u:p@127.0.0.1:5432/db?sslmode=require", null, null);
    PgDataSources.Settings verifyFull =
        PgDataSources.parse(
            "postgres://u:p@127.0.0.1:5432/db?sslmode=verify-full&sslrootcert=/certs/root.crt",
            null,
            null);

    assertThat(require.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/db?sslmode=require");
    assertThat(verifyFull.jdbcUrl())
        .isEqualTo(
            "jdbc:postgresql://127.0.0.1:5432/db?sslmode=verify-full&sslrootcert=/certs/root.crt");
    try (HikariDataSource pool =
        PgDataSources.create(verifyFull.withPool(1, Duration.ofSeconds(1)), "tls")) {
      assertThat(pool.getJdbcUrl()).contains("sslmode=verify-full");
    }
  }

  @Test
  void sslModeOfTheEnvironmentReachesTheDriver() {
    PgDataSources.Settings settings =
        PgDataSources.fromEnvironment(
            Map.of("POSTGRES_HOST", "127.0.0.1", "POSTGRES_SSLMODE", "verify-full"));

    assertThat(settings.jdbcUrl()).endsWith("?sslmode=verify-full");
  }

  @Test
  void requiringTlsOfAServerWithoutTlsFailsSayingSsl() {
    String url = pg.jdbcUrl() + (pg.jdbcUrl().contains("?") ? "&" : "?") + "sslmode=require";

    PgSessionException failure =
        failure(pg.server().settings(url), Duration.ofSeconds(2)).exception();

    assertThat(failure.getMessage()).contains("SSL");
  }

  private static PgDataSources.Settings connectionText(String form, int port) {
    return switch (form) {
      case "dsn" -> PgDataSources.parse(dsn(port), null, null);
      case "url-parameter" -> PgDataSources.parse(urlWithPassword(port), null, null);
      default ->
          PgDataSources.parse("jdbc:postgresql://127.0.0.1:" + port + "/postgres", ROLE, SECRET);
    };
  }

  private static String dsn(int port) {
    return "postgres://"
        + ROLE
        + ":"
        + SECRET
        + "@127.0.0.1:"
        + port
        + "/postgres?connect_timeout=2";
  }

  private static String urlWithPassword(int port) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=" + ROLE + "&password=" + SECRET;
  }

  /** A failed store operation, and all the text it left: stack traces, settings and logs. */
  record Failure(PgSessionException exception, String everything) {}

  /** Uses a store over a pool of these settings, expecting a failure. */
  private static Failure failure(PgDataSources.Settings settings, Duration timeout) {
    try (LogCapture logs = LogCapture.of(org.slf4j.Logger.ROOT_LOGGER_NAME);
        HikariDataSource pool = PgDataSources.create(settings.withPool(2, timeout), "secrets")) {
      PgSessionStore store =
          new PgSessionStore(
              pool, PgSessionConfig.defaults(), SecretsAndTlsTest.class.getClassLoader());
      PgSessionException failure = null;
      try {
        store.load("any-session");
      } catch (PgSessionException e) {
        failure = e;
      }
      assertThat(failure).as("the load failed").isNotNull();
      StringWriter text = new StringWriter();
      failure.printStackTrace(new PrintWriter(text));
      return new Failure(failure, text + "\n" + settings + "\n" + pool + "\n" + logs.text());
    }
  }
}
