package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Session ids as a forged cookie can carry them: no lookup errors or injects SQL, and a save either
 * stores the session under exactly that id or fails with a message about the id.
 */
class HostileSessionIdTest {
  private static final String CANARY = "canary";

  @RegisterExtension static PostgresExtension pg = new PostgresExtension();
  private static PgSessionStore store;

  @BeforeAll
  static void storeWithACanarySession() {
    store =
        new PgSessionStore(
            pg.dataSource(),
            PgSessionConfig.defaults(),
            HostileSessionIdTest.class.getClassLoader());
    SessionRecord canary = new SessionRecord(CANARY, System.currentTimeMillis(), 3600);
    canary.attributes().put("user", "ann");
    store.save(canary);
  }

  static Stream<Arguments> hostileIds() {
    return Stream.of(
        Arguments.of("single quote", "a'b"),
        Arguments.of("double quote", "a\"b"),
        Arguments.of("backslash", "a\\b\\'"),
        Arguments.of("control characters", "a\r\nSet-Cookie: x=1\t\u0007\u001b[31m"),
        Arguments.of("SQL fragment", "'; DROP TABLE session; --"),
        Arguments.of("SQL tautology", "x' OR '1'='1"),
        Arguments.of("SQL wildcard", "%"),
        Arguments.of("non-ASCII", "séance-会话-🙂-\u202e"),
        Arguments.of("NUL", "a\u0000b"),
        Arguments.of("lone high surrogate", "a\ud800b"),
        Arguments.of("lone low surrogate", "\udc00"),
        Arguments.of("empty", ""),
        Arguments.of("1024 characters", "k".repeat(1024)),
        Arguments.of("1025 characters", "k".repeat(1025)),
        Arguments.of("1024 bytes of emoji", "🙂".repeat(256)),
        Arguments.of("1025 bytes", "é".repeat(512) + "k"),
        Arguments.of("100 KB", "x".repeat(100 * 1024)),
        Arguments.of("100 KB of multi-byte text", "会".repeat(100 * 1024 / 3)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileIds")
  void lookupsOfAHostileIdAnswerAbsentAndLeaveTheTableIntact(String kind, String sid)
      throws SQLException {
    boolean exists = store.exists(sid);
    SessionRecord loaded = store.load(sid);
    boolean touched = store.touch(sid, System.currentTimeMillis() + 60_000);
    boolean deleted = store.delete(sid);

    assertThat(exists).isFalse();
    assertThat(loaded).isNull();
    assertThat(touched).isFalse();
    assertThat(deleted).isFalse();
    assertTableIntact();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileIds")
  void aSaveUnderAHostileIdStoresExactlyThatIdOrFailsNamingTheId(String kind, String sid)
      throws SQLException {
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 3600);
    record.attributes().put("kind", kind);

    PgSessionException failure = null;
    try {
      store.save(record);
    } catch (PgSessionException e) {
      failure = e;
    }

    if (failure == null) {
      assertThat(store.load(sid)).isNotNull();
      assertThat(store.load(sid).attributes()).containsEntry("kind", kind);
      assertThat(storedIdsOtherThan(CANARY)).containsExactly(sid);
      assertThat(store.delete(sid)).isTrue();
    } else {
      assertThat(failure.getMessage()).contains("save of session").contains("the id");
      assertThat(storedIdsOtherThan(CANARY)).isEmpty();
    }
    assertTableIntact();
  }

  @Test
  void changeIdToAHostileIdFailsClearlyAndKeepsTheSession() {
    SessionRecord record = new SessionRecord("plain-id", System.currentTimeMillis(), 3600);
    store.save(record);

    PgSessionException failure = catchFailure(() -> store.changeId("plain-id", "a\u0000b"));

    assertThat(failure).hasMessageContaining("the id");
    assertThat(store.exists("plain-id")).isTrue();
    store.delete("plain-id");
  }

  private static PgSessionException catchFailure(Runnable action) {
    try {
      action.run();
      return null;
    } catch (PgSessionException e) {
      return e;
    }
  }

  private static void assertTableIntact() throws SQLException {
    assertThat(store.load(CANARY)).isNotNull();
    assertThat(store.load(CANARY).attributes()).containsEntry("user", "ann");
  }

  private static List<String> storedIdsOtherThan(String sid) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = pg.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT sid FROM " + store.tableName())) {
      while (rs.next()) {
        if (!rs.getString(1).equals(sid)) {
          ids.add(rs.getString(1));
        }
      }
    }
    return ids;
  }
}
