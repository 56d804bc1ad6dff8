package io.pgsession.jetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.testing.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.Map;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.xml.XmlConfiguration;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Jetty's connection settings as jetty.xml gives them. */
class JettyConfigAttackTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

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
