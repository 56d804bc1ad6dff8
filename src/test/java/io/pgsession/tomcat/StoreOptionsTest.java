package io.pgsession.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgDataSources;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where context.xml's attributes and the environment send the connections. */
class StoreOptionsTest {
  private static final Map<String, String> ENV = Map.of("DSN", "postgres://app:secret@db/shop");

  @Test
  void aPasswordAttributeAloneKeepsTheUserOfTheEnvironmentsDsn() {
    StoreOptions options = new StoreOptions();
    options.password("rotated");

    PgDataSources.Settings s = options.settings(ENV);

    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://db/shop");
    assertThat(s.user()).isEqualTo("app");
    assertThat(s.password()).isEqualTo("rotated");
  }

  @Test
  void aUserAttributeAloneKeepsThePasswordOfTheEnvironmentsDsn() {
    StoreOptions options = new StoreOptions();
    options.user("reporting");

    PgDataSources.Settings s = options.settings(ENV);

    assertThat(s.user()).isEqualTo("reporting");
    assertThat(s.password()).isEqualTo("secret");
  }

  @Test
  void blankAttributesCountAsUnset() {
    StoreOptions options = new StoreOptions();
    options.user(" ");
    options.password("");

    PgDataSources.Settings s = options.settings(ENV);

    assertThat(s.user()).isEqualTo("app");
    assertThat(s.password()).isEqualTo("secret");
  }
}
