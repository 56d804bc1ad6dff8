package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pgsession.testing.PostgresExtension;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** A row that cannot be read is reported once and read as no session, or fails if so set. */
class UndecodableRowTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private final Logger logger = (Logger) LoggerFactory.getLogger(PgSessionStore.class);
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  @BeforeEach
  void captureLog() {
    appender.start();
    logger.addAppender(appender);
  }

  @AfterEach
  void releaseLog() {
    logger.detachAppender(appender);
  }

  @Test
  void undecodableRowIsLoggedOnceWithItsIdHoweverOftenItIsLoaded() {
    PgSessionStore store = store(PgSessionConfig.defaults());
    insertBroken("broken-once");

    for (int i = 0; i < 5; i++) {
      assertThat(store.load("broken-once")).isNull();
    }

    List<ILoggingEvent> warnings =
        appender.list.stream()
            .filter(e -> e.getLevel() == Level.WARN)
            .filter(e -> e.getFormattedMessage().contains("broken-once"))
            .toList();
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0).getFormattedMessage()).contains("\"session\"");
  }

  @Test
  void eachUndecodableRowIsLoggedOnItsOwn() {
    PgSessionStore store = store(PgSessionConfig.defaults());
    insertBroken("broken-a");
    insertBroken("broken-b");

    store.load("broken-a");
    store.load("broken-b");
    store.load("broken-a");

    assertThat(appender.list)
        .filteredOn(e -> e.getLevel() == Level.WARN)
        .extracting(ILoggingEvent::getFormattedMessage)
        .satisfiesExactly(
            m -> assertThat(m).contains("broken-a"), m -> assertThat(m).contains("broken-b"));
  }

  @Test
  void failPolicyThrowsNamingTheSessionInsteadOfReadingNoSession() {
    PgSessionConfig config =
        PgSessionConfig.builder().onUndecodable(PgSessionConfig.UndecodablePolicy.FAIL).build();
    PgSessionStore store = store(config);
    insertBroken("broken-fail");

    assertThatThrownBy(() -> store.load("broken-fail"))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("broken-fail")
        .satisfies(e -> assertThat(((PgSessionException) e).sessionId()).isEqualTo("broken-fail"));
  }

  @Test
  void documentThatIsNotAnObjectIsUndecodableToo() {
    PgSessionStore store = store(PgSessionConfig.defaults());
    store.ensureTable();
    Sql.update(
        pg.dataSource(),
        "INSERT INTO session VALUES ('array-doc', '[1,2]', timezone('UTC', now()) + interval '1"
            + " hour')");

    assertThat(store.load("array-doc")).isNull();
    assertThat(appender.list)
        .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("array-doc"));
  }

  private static PgSessionStore store(PgSessionConfig config) {
    return new PgSessionStore(pg.dataSource(), config, UndecodableRowTest.class.getClassLoader());
  }

  private static void insertBroken(String sid) {
    store(PgSessionConfig.defaults()).ensureTable();
    Sql.update(
        pg.dataSource(),
        "INSERT INTO session VALUES (?, ?::json, timezone('UTC', now()) + interval '1 hour')",
        sid,
        "{\"cookie\":{},\"cart\":{\"@t\":\"long\",\"v\":\"not a number\"}}");
  }
}
