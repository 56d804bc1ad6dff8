package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.testing.PostgresExtension;
import java.net.URI;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Pools from a JDBC URL, a DSN or the environment; passwords stay out of every text. */
class PgDataSourcesTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final String SECRET = "s3cr3t@:/?pw";
  private static final String ENCODED_SECRET = "s3cr3t%40%3A%2F%3Fpw";

  @Test
  void dsnGivesUserUrlDecodedPasswordHostPortAndDatabase() {
    PgDataSources.Settings s =
        PgDataSources.parse("postgres://ann:" + ENCODED_SECRET + "@db.test:6543/shop", null, null);

    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://db.test:6543/shop");
    assertThat(s.user()).isEqualTo("ann");
    assertThat(s.password()).isEqualTo(SECRET);
  }

  @Test
  void postgresqlSchemeAndMultipleHostsAreUnderstood() {
    PgDataSources.Settings s =
        PgDataSources.parse("postgresql://ann@h1:5432,h2:5433/shop", null, null);

    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://h1:5432,h2:5433/shop");
    assertThat(s.password()).isNull();
  }

  @Test
  void sslModesPassThroughAndConnectTimeoutIsMapped() {
    assertThat(PgDataSources.parse("postgres://u@h/db?sslmode=require", null, null).jdbcUrl())
        .isEqualTo("jdbc:postgresql://h/db?sslmode=require");
    assertThat(
            PgDataSources.parse(
                    "postgres://u@h/db?sslmode=verify-full&connect_timeout=7", null, null)
                .jdbcUrl())
        .isEqualTo("jdbc:postgresql://h/db?sslmode=verify-full&connectTimeout=7");
  }

  @Test
  void missingDatabaseDefaultsToTheUserNameAsLibpqDoes() {
    assertThat(PgDataSources.parse("postgres://ann@h", null, null).jdbcUrl())
        .isEqualTo("jdbc:postgresql://h/ann");
    assertThat(PgDataSources.parse("postgres://h:5433", null, null).jdbcUrl())
        .isEqualTo("jdbc:postgresql://h:5433/postgres");
  }

  @Test
  void userAndPasswordGivenApartWinOverTheDsns() {
    PgDataSources.Settings s =
        PgDataSources.parse("postgres://ann:one@h/db?password=two", "bob", "three");

    assertThat(s.user()).isEqualTo("bob");
    assertThat(s.password()).isEqualTo("three");
  }

  @Test
  void jdbcUrlIsKeptAsItIs() {
    String url = "jdbc:postgresql://h:5432/db?ApplicationName=shop";

    assertThat(PgDataSources.parse(url, "u", "p").jdbcUrl()).isEqualTo(url);
  }

  @Test
  void notAPostgresUrlIsRejectedWithoutShowingItsPassword() {
    assertThatThrownBy(
            () -> PgDataSources.parse("jdbc:mysql://h/db?password=" + SECRET, null, null))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("jdbcUrl")
        .hasMessageNotContaining(SECRET);
  }

  @Test
  void dsnInTheEnvironmentWinsOverPostgresVariables() {
    PgDataSources.Settings s =
        PgDataSources.fromEnvironment(
            Map.of("DSN", "postgres://ann@h1/a", "POSTGRES_HOST", "h2", "POSTGRES_DB", "b"));

    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://h1/a");
    assertThat(s.user()).isEqualTo("ann");
  }

  @Test
  void postgresVariablesHaveTheImagesDefaults() {
    PgDataSources.Settings s = PgDataSources.fromEnvironment(Map.of("POSTGRES_HOST", "db"));

    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/postgres");
    assertThat(s.user()).isEqualTo("postgres");
    assertThat(s.password()).isNull();
  }

  @Test
  void postgresVariablesAreAllUsed() {
    PgDataSources.Settings s =
        PgDataSources.fromEnvironment(
            Map.of(
                "POSTGRES_HOST", "db",
                "POSTGRES_PORT", "6000",
                "POSTGRES_USER", "app",
                "POSTGRES_PASSWORD", SECRET,
                "POSTGRES_DB", "shop",
                "POSTGRES_SSLMODE", "require"));

    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://db:6000/shop?sslmode=require");
    assertThat(s.user()).isEqualTo("app");
    assertThat(s.password()).isEqualTo(SECRET);
  }

  @Test
  void emptyPostgresVariablesCountAsUnset() {
    PgDataSources.Settings s =
        PgDataSources.fromEnvironment(
            Map.of("POSTGRES_HOST", "db", "POSTGRES_PORT", "", "POSTGRES_USER", " "));

    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/postgres");
    assertThat(s.user()).isEqualTo("postgres");
  }

  @Test
  void environmentWithoutADatabaseGivesNothing() {
    assertThat(PgDataSources.fromEnvironment(Map.of("POSTGRES_PASSWORD", "x", "DSN", " ")))
        .isNull();
  }

  @Test
  void passwordNeverAppearsInSettingsText() {
    PgDataSources.Settings s =
        PgDataSources.parse(
            "postgres://ann:" + ENCODED_SECRET + "@h/db?password=" + ENCODED_SECRET, null, null);

    assertThat(s.toString()).doesNotContain(SECRET).doesNotContain(ENCODED_SECRET).contains("****");
  }

  @Test
  void maskHidesPasswordsInUrlsAndDsns() {
    assertThat(PgDataSources.mask("jdbc:postgresql://h/db?user=u&password=" + SECRET + "&x=1"))
        .doesNotContain(SECRET)
        .contains("x=1");
    assertThat(PgDataSources.mask("postgres://ann:" + ENCODED_SECRET + "@h/db"))
        .doesNotContain(ENCODED_SECRET)
        .contains("ann");
  }

  @Test
  void poolBuiltFromADsnOnTheTestServerWorks() throws SQLException {
    URI server = URI.create(pg.jdbcUrl().substring("jdbc:".length()));
    String dsn =
        "postgres://"
            + pg.server().user()
            + ":"
            + pg.server().password()
            + "@"
            + server.getHost()
            + ":"
            + server.getPort()
            + server.getPath()
            + "?application_name=dsn-test";

    try (HikariDataSource pool =
            PgDataSources.create(PgDataSources.parse(dsn, null, null), "dsn-test");
        Connection c = pool.getConnection()) {
      assertThat(c.isValid(2)).isTrue();
      assertThat(c.getMetaData().getURL()).contains(server.getPath());
    }
  }

  @Test
  void failedConnectionNeverShowsThePassword() {
    // The test server's URL may carry its user; a role that does not exist fails even on a
    // server that trusts local connections.
    String url = pg.jdbcUrl().replaceAll("\\?.*", "");
    PgDataSources.Settings s =
        PgDataSources.parse(url, "no_such_role", SECRET).withPool(1, Duration.ofSeconds(1));

    try (HikariDataSource pool = PgDataSources.create(s, "wrong-password")) {
      PgSessionStore store =
          new PgSessionStore(pool, PgSessionConfig.defaults(), getClass().getClassLoader());

      assertThatThrownBy(() -> store.load("any"))
          .isInstanceOf(PgSessionException.class)
          .satisfies(PgDataSourcesTest::assertNoSecretInAnyMessage);
    }
  }

  private static void assertNoSecretInAnyMessage(Throwable thrown) {
    assertThat(thrown).rootCause().hasMessageContaining("no_such_role");
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      assertThat(String.valueOf(t.getMessage())).doesNotContain(SECRET);
      assertThat(t.toString()).doesNotContain(SECRET);
    }
  }

  @Test
  void connectionTimeoutAndPoolSizeAreReadFromTheirText() {
    assertThat(PgDataSources.connectionTimeout(" 2.5 ")).isEqualTo(Duration.ofMillis(2500));
    assertThat(PgDataSources.connectionTimeout("PT0.25S")).isEqualTo(Duration.ofMillis(250));
    assertThat(PgDataSources.poolSize(" 4 ")).isEqualTo(4);

    assertThatThrownBy(() -> PgDataSources.connectionTimeout("0.1"))
        .hasMessageContaining("setting connectionTimeout = '0.1' must be from 250 ms to one day");
    assertThatThrownBy(() -> PgDataSources.connectionTimeout("soon"))
        .hasMessageContaining("setting connectionTimeout = 'soon' must be seconds or an ISO-8601");
    assertThatThrownBy(() -> PgDataSources.connectionTimeout("PT25H"))
        .hasMessageContaining("setting connectionTimeout = 'PT25H' must be from 250 ms to one day");
    assertThatThrownBy(() -> PgDataSources.poolSize("0"))
        .hasMessageContaining("setting maxPoolSize = '0' must be at least 1");
    assertThatThrownBy(() -> PgDataSources.poolSize("ten"))
        .hasMessageContaining("setting maxPoolSize = 'ten' must be a whole number");
  }

  @Test
  void dsnsWhoseHostsAndQueriesLookUnusualAreStillRead() {
    assertThat(PgDataSources.parse("postgres://app:pw@[::1]:5432/db", null, null).jdbcUrl())
        .isEqualTo("jdbc:postgresql://[::1]:5432/db");
    assertThat(
            PgDataSources.parse("postgres://h1:5432,h2:5433/db?application_name=a@b", null, null)
                .jdbcUrl())
        .isEqualTo("jdbc:postgresql://h1:5432,h2:5433/db?ApplicationName=a@b");
    assertThat(PgDataSources.parse("postgres://app:p%2Fw%3F@h/db", null, null).password())
        .isEqualTo("p/w?");
  }

  @Test
  void aTargetSessionAttrsTheDriverHasNoMatchForIsRefused() {
    assertThatThrownBy(
            () -> PgDataSources.parse("postgres://h/db?target_session_attrs=writable", null, null))
        .hasMessageContaining("target_session_attrs = 'writable'");
  }

  @Test
  void aPasswordGivenBesideAJdbcUrlReplacesTheUrlsOwn() {
    PgDataSources.Settings s =
        PgDataSources.parse("jdbc:postgresql://h/db?password=old&sslmode=require", null, "new");

    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://h/db?sslmode=require");
    assertThat(s.password()).isEqualTo("new");
  }
}
