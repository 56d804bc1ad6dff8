package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Settings are validated when given, and bad ones are named with their value. */
class PgSessionConfigTest {
  private static final String LONG_NAME = "t".repeat(64);

  @Test
  void defaultsAreTheTableOfConnectPgSimple() {
    PgSessionConfig config = PgSessionConfig.defaults();

    assertThat(config.qualifiedTable()).isEqualTo("\"session\"");
    assertThat(config.quotedExpireIndex()).isEqualTo("\"IDX_session_expire\"");
    assertThat(config.schema()).isNull();
    assertThat(config.createTable()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"session; DROP TABLE x", "\"quoted\"", "", "1st", "a b", "s-t", "é"})
  void badTableNameIsRejectedNamingTheSettingAndTheValue(String name) {
    assertRejected(b -> b.table(name), "table", name);
    assertRejected(b -> b.set("table", name), "table", name.strip());
  }

  @Test
  void tableNameLongerThanPostgresAllowsIsRejected() {
    assertRejected(b -> b.table(LONG_NAME), "table", LONG_NAME);
  }

  @Test
  void tableNameOfSixtyThreeCharactersIsAccepted() {
    String name = "t".repeat(63);

    assertThat(PgSessionConfig.builder().table(name).build().table()).isEqualTo(name);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "public; DROP TABLE x",
        "\"web\"",
        "we b",
        "x234567890123456789012345678901234567890123456789012345678901234"
      })
  void badSchemaNameIsRejectedNamingTheSettingAndTheValue(String name) {
    assertRejected(b -> b.schema(name), "schema", name);
  }

  @Test
  void blankSchemaMeansTheSearchPath() {
    assertThat(PgSessionConfig.builder().set("schema", " ").build().schema()).isNull();
  }

  @Test
  void schemaAndTableAreQuotedInSql() {
    PgSessionConfig config = PgSessionConfig.builder().schema("web").table("web_sessions").build();

    assertThat(config.qualifiedTable()).isEqualTo("\"web\".\"web_sessions\"");
    assertThat(config.quotedExpireIndex()).isEqualTo("\"IDX_web_sessions_expire\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {"1.5", "-0.1", "NaN", "lots"})
  void touchFractionOutsideZeroToOneIsRejected(String value) {
    assertRejected(b -> b.set("touchFraction", value), "touchFraction", value);
  }

  @Test
  void touchFractionBoundsAreAccepted() {
    assertThat(PgSessionConfig.builder().touchFraction(0).build().touchFraction()).isZero();
    assertThat(PgSessionConfig.builder().set("touchFraction", "1").build().touchFraction())
        .isEqualTo(1.0);
  }

  @ParameterizedTest
  @CsvSource({
    "reaperInterval,-5,PT-5S",
    "reaperInterval,PT-1S,PT-1S",
    "reaperGrace,-1,PT-1S",
    "reaperGrace,soon,soon"
  })
  void negativeOrUnreadableDurationIsRejected(String setting, String value, String shown) {
    assertRejected(b -> b.set(setting, value), setting, shown);
  }

  @Test
  void negativeDurationThroughTheBuilderIsRejected() {
    assertRejected(
        b -> b.reaperGrace(Duration.ofSeconds(-1)), "reaperGrace", Duration.ofSeconds(-1));
    assertRejected(
        b -> b.reaperInterval(Duration.ofMinutes(-1)), "reaperInterval", Duration.ofMinutes(-1));
  }

  @ParameterizedTest
  @CsvSource({"90,PT1M30S", "PT15M,PT15M", "p1d,PT24H", "0,PT0S", "' 30 ',PT30S"})
  void durationsAreSecondsOrIso8601(String text, String expected) {
    PgSessionConfig config =
        PgSessionConfig.builder().set("reaperInterval", text).set("reaperGrace", text).build();

    assertThat(config.reaperInterval()).isEqualTo(Duration.parse(expected));
    assertThat(config.reaperGrace()).isEqualTo(Duration.parse(expected));
  }

  @ParameterizedTest
  @CsvSource({
    "reaperBatchSize,0",
    "reaperBatchSize,-3",
    "reaperBatchSize,many",
    "reaperBatchSize,99999999999",
    "maxSessionBytes,-1",
    "readCacheBytes,-1",
    "readCacheBytes,32MB",
    "createTable,maybe",
    "onUndecodable,ignore"
  })
  void otherBadValuesAreRejected(String setting, String value) {
    assertRejected(b -> b.set(setting, value), setting, value);
  }

  @Test
  void unknownSettingIsRejectedByName() {
    assertRejected(b -> b.set("tabel", "session"), "tabel", "session");
  }

  @ParameterizedTest
  @ValueSource(strings = {"Mars/Base", "UTC'; DROP TABLE session; --", "", "Europe/Nowhere"})
  void badExpireZoneIsRejected(String zone) {
    assertRejected(b -> b.expireZone(zone), "expireZone", zone);
  }

  @Test
  void knownExpireZoneIsAccepted() {
    assertThat(PgSessionConfig.builder().set("expireZone", "Europe/Berlin").build().expireZone())
        .isEqualTo("Europe/Berlin");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "java.util",
        "javax.naming",
        "java",
        "jdk.internal",
        "sun.misc",
        "com.sun.rowset",
        "com",
        "org.*",
        "com..example",
        "com.example;x"
      })
  void jdkTopLevelOrMalformedPackagesCannotBeAllowed(String pkg) {
    assertRejected(b -> b.allowPackages(pkg), "allowedPackages", pkg);
  }

  @Test
  void allowedPackagesAreReadFromAListWithOrWithoutWildcards() {
    PgSessionConfig config =
        PgSessionConfig.builder().set("allowedPackages", "com.example.*, org.acme  net.x").build();

    assertThat(config.allowedPackages()).containsExactly("com.example", "org.acme", "net.x");
  }

  @Test
  void textSettingsFillEveryField() {
    PgSessionConfig config =
        PgSessionConfig.builder()
            .setAll(
                Map.of(
                    "schema", "web",
                    "table", "web_sessions",
                    "createTable", "off",
                    "touchFraction", "0.25",
                    "reaperBatchSize", "50",
                    "onUndecodable", "fail",
                    "maxSessionBytes", "0",
                    "readCacheBytes", "1048576",
                    "sidPrefix", "ctx:"))
            .build();

    assertThat(config.schema()).isEqualTo("web");
    assertThat(config.table()).isEqualTo("web_sessions");
    assertThat(config.createTable()).isFalse();
    assertThat(config.touchFraction()).isEqualTo(0.25);
    assertThat(config.reaperBatchSize()).isEqualTo(50);
    assertThat(config.onUndecodable()).isEqualTo(PgSessionConfig.UndecodablePolicy.FAIL);
    assertThat(config.maxSessionBytes()).isZero();
    assertThat(config.readCacheBytes()).isEqualTo(1 << 20);
    assertThat(config.sidPrefix()).isEqualTo("ctx:");
  }

  @Test
  void copyThroughToBuilderKeepsEverySetting() {
    PgSessionConfig config =
        PgSessionConfig.builder()
            .schema("web")
            .table("t")
            .allowPackages("com.example")
            .touchFraction(0.5)
            .reaperGrace(Duration.ofMinutes(1))
            .readCacheBytes(12345)
            .build();

    assertThat(config.toBuilder().build()).hasToString(config.toString());
    assertThat(config.toBuilder().build().readCacheBytes()).isEqualTo(12345);
  }

  @Test
  void aReadCacheOfTwoGibibytesOrMoreCanBeSetAsText() {
    assertThat(PgSessionConfig.builder().set("readCacheBytes", "4294967296").build())
        .extracting(PgSessionConfig::readCacheBytes)
        .isEqualTo(4L << 30);
  }

  @ParameterizedTest
  @CsvSource({
    "maxSessionBytes, 2147483648, must be at most 2147483647",
    "maxSessionBytes, -4294967296, may not be negative",
    "reaperBatchSize, 99999999999, must be at most 2147483647",
    "readCacheBytes, 9223372036854775808, must be at most 9223372036854775807",
    "readCacheBytes, 32MB, must be a whole number"
  })
  void wholeNumbersOutOfTheirRangeAreRejectedWithTheLimit(
      String setting, String value, String message) {
    assertThatThrownBy(() -> PgSessionConfig.builder().set(setting, value))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("setting " + setting + " = '" + value + "'")
        .hasMessageContaining(message);
  }

  private static void assertRejected(
      Consumer<PgSessionConfig.Builder> change, String setting, Object value) {
    assertThatThrownBy(() -> change.accept(PgSessionConfig.builder()))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("setting " + setting)
        .hasMessageContaining("'" + value + "'");
  }
}
