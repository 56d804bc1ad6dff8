package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.factory;
import static io.pgsession.jetty.JettyTestSupport.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.testing.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.session.DefaultSessionCacheFactory;
import org.eclipse.jetty.session.SessionCache;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.xml.XmlConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PgSessionDataStoreFactoryTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @Test
  void badSettingFailsWhenSetNamingTheSettingAndTheValue() {
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();

    assertThatThrownBy(() -> factory.setTouchFraction(2))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("touchFraction = '2.0'")
        .hasMessageContaining("from 0 to 1");
    assertThatThrownBy(() -> factory.setTable("session; drop table x"))
        .hasMessageContaining("setting table");
    assertThatThrownBy(() -> factory.setConnectionTimeout("soon"))
        .hasMessageContaining("setting connectionTimeout = 'soon'");
  }

  @Test
  void settingsAreAppliedOverTheBaseConfiguration() {
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setConfig(PgSessionConfig.builder().table("web_sessions").build());

    factory.setTouchFraction(0.5);
    factory.setAllowedPackages("com.example.a, com.example.b");
    factory.setReaperInterval("PT5M");
    PgSessionConfig config = factory.config();

    assertThat(config.table()).isEqualTo("web_sessions");
    assertThat(config.touchFraction()).isEqualTo(0.5);
    assertThat(config.allowedPackages()).containsExactly("com.example.a", "com.example.b");
    assertThat(config.reaperInterval()).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void poolBuiltFromAJdbcUrlIsSharedByTheContextsAndClosedAfterTheLastStops() throws Exception {
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setJdbcUrl(pg.jdbcUrl());
    factory.setUser(pg.server().user());
    factory.setPassword(pg.server().password());
    JettyNode node = JettyNode.start("a", factory, "/", "/shop");
    Browser browser = new Browser();

    String count = browser.get(node.uri("/shop", "op=incr"));
    var root = node.store("/").store().dataSource();
    var shop = node.store("/shop").store().dataSource();
    node.close();

    assertThat(count).isEqualTo("1");
    assertThat(root).isSameAs(shop).isInstanceOf(HikariDataSource.class);
    assertThat(((HikariDataSource) root).isClosed()).isTrue();
  }

  @Test
  void applicationDataSourceIsNeverClosedAndServesARestart() throws Exception {
    HikariDataSource own = pg.newDataSource();
    PgSessionDataStoreFactory factory = factory(own);
    Browser browser = new Browser();
    JettyNode first = JettyNode.start("a", factory);
    browser.get(first.uri("op=incr"));
    first.close();

    JettyNode second = JettyNode.start("a", factory);
    String count = browser.get(second.uri("op=incr"));
    second.close();

    assertThat(own.isClosed()).isFalse();
    assertThat(count).isEqualTo("2");
  }

  @Test
  void sidPrefixSettingReplacesTheContextDefault() throws Exception {
    PgSessionDataStoreFactory factory = factory(pg);
    factory.setSidPrefix("app1:");
    JettyNode node = JettyNode.start("a", factory, "/shop");

    String id = new Browser().get(node.uri("/shop", "op=set&name=who&value=ann"));
    node.close();

    assertThat(strings(pg.dataSource(), "SELECT sid FROM session WHERE sid = ?", "app1:" + id))
        .hasSize(1);
  }

  @Test
  void factoryWithoutADatabaseFailsToStartWithAClearMessage() {
    Map<String, String> env = System.getenv();
    assumeTrue(env.get("DSN") == null && env.get("POSTGRES_HOST") == null);
    assumeTrue(env.get("POSTGRES_DB") == null);

    assertThatThrownBy(() -> JettyNode.start("a", new PgSessionDataStoreFactory()).close())
        .hasStackTraceContaining("no database is configured")
        .hasStackTraceContaining("jdbcUrl");
  }

  @Test
  void shippedJettyXmlConfiguresTheFactoryFromProperties() throws Exception {
    Server server = new Server();
    Path xml = Path.of("src/main/jetty/etc/pgsession-session-store.xml");

    try (ResourceFactory.Closeable resources = ResourceFactory.closeable()) {
      XmlConfiguration configuration = new XmlConfiguration(resources.newResource(xml));
      configuration
          .getProperties()
          .putAll(
              Map.of(
                  "jetty.session.pgsession.jdbcUrl", pg.jdbcUrl(),
                  "jetty.session.pgsession.table", "jetty_sessions",
                  "jetty.session.pgsession.allowedPackages", "com.example.web",
                  "jetty.session.pgsession.touchFraction", "0.25",
                  "jetty.session.pgsession.maxPoolSize", "3",
                  "jetty.session.gracePeriod.seconds", "120"));
      configuration.configure(server);
    }
    PgSessionDataStoreFactory factory = server.getBean(PgSessionDataStoreFactory.class);

    assertThat(factory).isNotNull();
    assertThat(factory.getGracePeriodSec()).isEqualTo(120);
    assertThat(factory.config().table()).isEqualTo("jetty_sessions");
    assertThat(factory.config().allowedPackages()).isEqualTo(List.of("com.example.web"));
    assertThat(factory.config().touchFraction()).isEqualTo(0.25);
    assertThat(factory.config().createTable()).isTrue();
  }

  @Test
  void jettyXmlExampleInTheDocsConfiguresTheCacheAndTheFactory() throws Exception {
    Server server = new Server();

    try (ResourceFactory.Closeable resources = ResourceFactory.closeable()) {
      XmlConfiguration configuration =
          new XmlConfiguration(resources.newResource(Path.of("docs/jetty-pgsession.xml")));
      configuration.getProperties().put("pgsession.jdbcUrl", pg.jdbcUrl());
      configuration.configure(server);
    }
    DefaultSessionCacheFactory caches = server.getBean(DefaultSessionCacheFactory.class);
    PgSessionDataStoreFactory factory = server.getBean(PgSessionDataStoreFactory.class);

    assertThat(caches.getEvictionPolicy()).isEqualTo(SessionCache.EVICT_ON_SESSION_EXIT);
    assertThat(caches.isFlushOnResponseCommit()).isTrue();
    assertThat(factory.config().allowedPackages()).containsExactly("com.example.web");
  }

  @Test
  void createTableInJettyXmlTakesTheWordsOfTheOtherConfigurationsAndRejectsTheRest()
      throws Exception {
    assertThat(configuredByXml("createTable", "no").config().createTable()).isFalse();
    assertThat(configuredByXml("createTable", "yes").config().createTable()).isTrue();
    assertThatThrownBy(() -> configuredByXml("createTable", "ture"))
        .hasStackTraceContaining("setting createTable = 'ture' must be true or false");
  }

  @ParameterizedTest
  @CsvSource({
    "maxPoolSize, ten, must be a whole number",
    "touchFraction, lots, must be a number",
    "readCacheBytes, 32MB, must be a whole number",
    "maxSessionBytes, 1e6, must be a whole number",
    "reaperBatchSize, 99999999999, must be at most 2147483647"
  })
  void numbersInJettyXmlThatAreNotNumbersFailNamingTheSetting(
      String setting, String value, String rule) {
    assertThatThrownBy(() -> configuredByXml(setting, value))
        .hasStackTraceContaining("setting " + setting + " = '" + value + "' " + rule);
  }

  @Test
  void numbersInJettyXmlAreApplied() throws Exception {
    assertThat(configuredByXml("touchFraction", "0.25").config().touchFraction()).isEqualTo(0.25);
    assertThat(configuredByXml("reaperBatchSize", "250").config().reaperBatchSize()).isEqualTo(250);
    assertThat(configuredByXml("maxSessionBytes", "4096").config().maxSessionBytes())
        .isEqualTo(4096);
  }

  @Test
  void readCacheBytesInJettyXmlMayExceedTwoGibibytes() throws Exception {
    assertThat(configuredByXml("readCacheBytes", "3221225472").config().readCacheBytes())
        .isEqualTo(3L << 30);
  }

  @Test
  void aPasswordGivenAloneKeepsTheUserOfTheEnvironmentsDsn() {
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setPassword("rotated");

    PgDataSources.Settings s =
        factory.connectionSettings(Map.of("DSN", "postgres://app:secret@db/shop"));

    assertThat(s.user()).isEqualTo("app");
    assertThat(s.password()).isEqualTo("rotated");
  }

  /**
   * A connectionTimeout of "Infinity" (or 68 years and more) would reach the driver as a
   * connectTimeout it cannot read as an int: every connection attempt would fail, and a request
   * wait the whole timeout. README: "a bad value stops the start with a message naming the setting
   * and the value".
   */
  @ParameterizedTest
  @ValueSource(strings = {"Infinity", "1e10", "PT600000H"})
  void aHugeConnectionTimeoutIsRefusedNamingItOrConnects(String timeout) throws Exception {
    PgDataSources.Settings db = pg.server().settings(pg.jdbcUrl());
    PgSessionDataStoreFactory factory;
    PgDataSources.Settings settings;
    try {
      factory = configuredByXml("connectionTimeout", timeout);
      factory.setJdbcUrl(db.jdbcUrl());
      factory.setUser(db.user());
      factory.setPassword(db.password());
      settings = factory.connectionSettings(Map.of());
    } catch (Exception refused) {
      assertThat(refused).hasStackTraceContaining("connectionTimeout = '" + timeout + "'");
      return;
    }

    try (HikariDataSource pool = PgDataSources.create(settings, "huge-timeout")) {
      assertTimeoutPreemptively(
          Duration.ofSeconds(15),
          () -> {
            try (Connection c = pool.getConnection()) {
              assertThat(c.isValid(2)).isTrue();
            }
          });
    }
  }

  /**
   * connectionTimeout="NaN" (or "0.1") in jetty.xml is refused quoting the text as written, not a
   * duration made of it ('PT0S', 'PT0.1S').
   */
  @ParameterizedTest
  @ValueSource(strings = {"NaN", "0.1"})
  void aTooShortConnectionTimeoutIsNamedWithTheValueWritten(String timeout) {
    assertThatThrownBy(
            () -> {
              PgSessionDataStoreFactory factory = configuredByXml("connectionTimeout", timeout);
              factory.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/db");
              factory.connectionSettings(Map.of());
            })
        .hasStackTraceContaining("connectionTimeout = '" + timeout + "'");
  }

  /** A factory made by jetty.xml that sets one property to {@code value}. */
  private static PgSessionDataStoreFactory configuredByXml(String property, String value)
      throws Exception {
    String xml =
        """
        <?xml version="1.0"?>
        <!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "https://jetty.org/configure_10_0.dtd">
        <Configure class="io.pgsession.jetty.PgSessionDataStoreFactory">
          <Set name="%s">%s</Set>
        </Configure>
        """
            .formatted(property, value);
    Path file = Files.createTempFile("pgsession-factory", ".xml");
    try (ResourceFactory.Closeable resources = ResourceFactory.closeable()) {
      Files.writeString(file, xml);
      PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
      new XmlConfiguration(resources.newResource(file)).configure(factory);
      return factory;
    } finally {
      Files.delete(file);
    }
  }
}
