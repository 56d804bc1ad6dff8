package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Configuration values that the README's rules say are refused with a message naming the setting,
 * applied as given, or kept out of every message: the odd ones a reviewer tried.
 */
class ConfigAttackTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  // ------------------------------------------------------------ passwords in DSNs

  /**
   * A generated password often holds '/' or '?' (base64, for one). Written raw in a DSN, a parser
   * would cut the DSN at that character and take "app:s3cr" for the host and port, which the JDBC
   * URL, Settings.toString() (logged at every start) and the pool's messages then show. Such a DSN
   * is refused without quoting it.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {"postgres://app:s3cr/et@127.0.0.1:1/db", "postgres://app:s3cr?et@127.0.0.1:1/db"})
  void aRawSlashOrQuestionMarkInADsnPasswordNeverShowsThePassword(String dsn) {
    PgDataSources.Settings settings;
    try {
      settings = PgDataSources.parse(dsn, null, null);
    } catch (PgSessionException refused) {
      assertThat(refused.getMessage()).contains("jdbcUrl").doesNotContain("s3cr");
      return;
    }
    assertThat(settings.toString()).doesNotContain("s3cr");
    assertThat(settings.jdbcUrl()).doesNotContain("s3cr");
    Throwable thrown = catchThrowable(() -> PgDataSources.create(settings, "raw-slash").close());
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      assertThat(String.valueOf(t.getMessage())).doesNotContain("s3cr");
    }
  }

  /**
   * A raw '%' in a DSN password ("50%zq9...") is refused naming jdbcUrl, without the decoder's
   * message, which quotes the two characters after the '%'.
   */
  @Test
  void aRawPercentInADsnPasswordIsRefusedNamingJdbcUrlWithoutQuotingThePassword() {
    assertThatThrownBy(
            () -> PgDataSources.parse("postgres://app:50%zq9k@127.0.0.1:1/db", null, null))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("jdbcUrl")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("zq"));
  }

  /**
   * A misspelt scheme ("postgress://") is refused, and the message masks the password up to the
   * last '@', also when the password holds one.
   */
  @Test
  void aMisspeltSchemeNeverShowsAPasswordHoldingAnAt() {
    assertThatThrownBy(
            () -> PgDataSources.parse("postgress://app:p@ssw0rd-xyz@127.0.0.1:1/db", null, null))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("jdbcUrl")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("ssw0rd-xyz"));
  }

  // ------------------------------------------------------------ DSN parameters

  /**
   * {@code channel_binding=require} in a DSN tells libpq to refuse a server that does not prove it
   * knows the password (SCRAM with channel binding). The driver spells it channelBinding, and would
   * ignore the DSN's spelling; target_session_attrs (the driver's targetServerType) likewise.
   */
  @Test
  void channelBindingAndTargetSessionAttrsOfADsnReachTheDriver() {
    PgDataSources.Settings settings;
    try {
      settings =
          PgDataSources.parse(
              "postgres://app@127.0.0.1:1/db?channel_binding=require"
                  + "&target_session_attrs=read-write",
              null,
              null);
    } catch (PgSessionException refused) {
      assertThat(refused.getMessage()).contains("channel_binding");
      return;
    }
    Properties driver = org.postgresql.Driver.parseURL(settings.jdbcUrl(), new Properties());

    assertThat(driver.getProperty("channelBinding")).isEqualTo("require");
    assertThat(driver.getProperty("targetServerType")).isIn("primary", "master");
  }

  // ------------------------------------------------------------ user given beside the URL

  /**
   * README: "user, password: each one given wins over the DSN's or the environment's". With a JDBC
   * URL that carries {@code ?user=} (as the URLs of many tools and of embedded test servers do),
   * the driver would let the URL's parameter win over the user it is given beside it.
   */
  @Test
  void aUserGivenBesideAJdbcUrlWinsOverTheUrlsUser() throws Exception {
    String url = pg.jdbcUrl().replaceAll("\\?.*", "") + "?user=no_such_role_in_url";
    PgDataSources.Settings settings =
        PgDataSources.parse(url, pg.server().user(), pg.server().password())
            .withPool(1, Duration.ofSeconds(2));

    assertThat(settings.user()).isEqualTo(pg.server().user());
    try (HikariDataSource pool = PgDataSources.create(settings, "user-beside-url");
        Connection c = pool.getConnection()) {
      assertThat(c.getMetaData().getUserName()).isEqualTo(pg.server().user());
    }
  }

  // ------------------------------------------------------------ numbers and durations

  /** A negative number too large for a long is told it may not be negative, not a maximum. */
  @ParameterizedTest
  @ValueSource(strings = {"maxSessionBytes", "reaperBatchSize", "readCacheBytes"})
  void aHugeNegativeNumberIsNotToldItMustBeAtMostTheMaximum(String setting) {
    assertThatThrownBy(() -> PgSessionConfig.builder().set(setting, "-99999999999999999999999999"))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining(setting)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("must be at most"));
  }

  /**
   * reaperInterval = Long.MAX_VALUE seconds would overflow the reaper's scheduling with a bare
   * ArithmeticException ("long overflow") that names no setting.
   */
  @ParameterizedTest
  @ValueSource(strings = {"9223372036854775807", "PT10000000000000000S"})
  void aHugeReaperIntervalIsRefusedNamingItOrStarts(String interval) {
    PgSessionConfig config;
    try {
      config = PgSessionConfig.builder().set("reaperInterval", interval).build();
    } catch (PgSessionException refused) {
      assertThat(refused.getMessage()).contains("reaperInterval").contains(interval);
      return;
    }
    PgSessionStore store = new PgSessionStore(pg.dataSource(), config, getClass().getClassLoader());

    assertThatCode(() -> SessionReaper.start(store).close()).doesNotThrowAnyException();
  }

  /**
   * A very long reaperGrace ("keep expired rows for ever") would make every reaper run fail in the
   * database (the timestamp is out of range), logged as a warning for as long as the node runs.
   */
  @ParameterizedTest
  @ValueSource(strings = {"PT100000000H", "9223372036854775807"})
  void aHugeReaperGraceIsRefusedNamingItOrReapsNothing(String grace) {
    PgSessionConfig config;
    try {
      config = PgSessionConfig.builder().set("reaperGrace", grace).build();
    } catch (PgSessionException refused) {
      assertThat(refused.getMessage()).contains("reaperGrace").contains(grace);
      return;
    }
    PgSessionStore store = new PgSessionStore(pg.dataSource(), config, getClass().getClassLoader());
    store.ensureTable();

    assertThatCode(store::reap).doesNotThrowAnyException();
  }
}
