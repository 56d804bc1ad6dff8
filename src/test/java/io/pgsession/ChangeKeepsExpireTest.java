package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.CountingDataSource;
import io.pgsession.testing.PostgresExtension;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A request that changes attributes writes {@code expire} only when a request that changed nothing
 * would (the touch is due) or when the interval changed. Otherwise the update leaves every indexed
 * column as it is, so PostgreSQL can make it a heap-only update that adds no index entries.
 */
class ChangeKeepsExpireTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static CountingDataSource counting;
  private static PgSessionStore store;

  @BeforeAll
  static void createStore() {
    counting = CountingDataSource.wrap(pg.dataSource());
    store =
        new PgSessionStore(
            counting.dataSource(),
            PgSessionConfig.defaults(),
            ChangeKeepsExpireTest.class.getClassLoader());
    store.ensureTable();
  }

  @BeforeEach
  void resetCount() {
    counting.reset();
  }

  @Test
  void aChangeInsideTheTouchWindowWritesTheDocumentAndLeavesExpireAsStored() {
    String sid = stored();
    String expireBefore = expireOf(sid);
    SessionRecord record = store.load(sid);
    accessNow(record, 1800);
    record.attributes().put("a", "changed");
    counting.reset();

    int statements = counting.countOf(() -> assertSaved(record, SaveOutcome.UPDATED));

    assertThat(statements).isEqualTo(1);
    assertThat(counting.statements().get(0)).startsWith("UPDATE").doesNotContain("expire");
    assertThat(expireOf(sid)).isEqualTo(expireBefore);
    assertThat(Sql.text(pg.dataSource(), "SELECT sess->>'a' FROM session WHERE sid = ?", sid))
        .isEqualTo("changed");
    assertThat(store.load(sid).attributes()).containsEntry("a", "changed");
  }

  @Test
  void aChangeOnceTheTouchIsDueMovesExpireInTheSameStatement() {
    String sid = stored();
    Sql.update(
        pg.dataSource(),
        "UPDATE session SET expire = expire - interval '10 minutes' WHERE sid = ?",
        sid);
    SessionRecord record = store.load(sid);
    accessNow(record, 1800);
    record.attributes().put("a", "changed");
    counting.reset();

    int statements = counting.countOf(() -> assertSaved(record, SaveOutcome.UPDATED));

    assertThat(statements).isEqualTo(1);
    assertThat(counting.statements().get(0)).contains("sess =").contains("expire =");
    assertThat(Sql.storedExpiryMillis(pg.dataSource(), sid)).isEqualTo(record.expiry());
  }

  @Test
  void aChangedIntervalMovesExpireInsideTheTouchWindowToo() {
    String sid = stored();
    SessionRecord record = store.load(sid);
    accessNow(record, 3600);

    assertSaved(record, SaveOutcome.UPDATED);

    assertThat(Sql.storedExpiryMillis(pg.dataSource(), sid)).isEqualTo(record.expiry());
    assertThat(store.load(sid).maxInactiveSeconds()).isEqualTo(3600);
  }

  @Test
  void aChangeMergedOverAnotherWritersTouchKeepsTheLaterExpiry() {
    String sid = stored();
    SessionRecord record = store.load(sid);
    accessNow(record, 1800);
    record.attributes().put("a", "mine");
    // Another node touched the row after this request read it: a later expire, a new xmin.
    Sql.update(
        pg.dataSource(),
        "UPDATE session SET expire = expire + interval '1 minute' WHERE sid = ?",
        sid);
    String touched = expireOf(sid);

    assertSaved(record, SaveOutcome.MERGED);

    assertThat(expireOf(sid)).isEqualTo(touched);
    assertThat(store.load(sid).attributes()).containsEntry("a", "mine");
  }

  @Test
  void aChangeInsideTheTouchWindowIsAHeapOnlyUpdate() {
    // One connection, so that this test's statements run on the backend that made the update and
    // see its statistics once flushed (PostgreSQL 15 and later can be asked to flush them).
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(pg.jdbcUrl());
    config.setUsername(pg.server().user());
    config.setPassword(pg.server().password());
    config.setMaximumPoolSize(1);
    try (HikariDataSource one = new HikariDataSource(config)) {
      assumeTrue(
          Sql.number(one, "SELECT current_setting('server_version_num')::int") >= 150000,
          "pg_stat_force_next_flush needs PostgreSQL 15");
      PgSessionStore onOne =
          new PgSessionStore(
              one, PgSessionConfig.defaults(), ChangeKeepsExpireTest.class.getClassLoader());
      SessionRecord created = newRecord();
      onOne.save(created);
      SessionRecord record = onOne.load(created.sid());
      accessNow(record, 1800);
      record.attributes().put("a", "changed");
      long before = hotUpdates(one);

      assertThat(onOne.save(record)).isEqualTo(SaveOutcome.UPDATED);

      assertThat(hotUpdates(one) - before).isEqualTo(1);
    }
  }

  private static long hotUpdates(HikariDataSource one) {
    // The flush happens when the statement's transaction ends; the next one reads the counts.
    Sql.text(one, "SELECT pg_stat_force_next_flush()::text");
    return Sql.number(
        one, "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'session'::regclass");
  }

  private static String expireOf(String sid) {
    return Sql.text(pg.dataSource(), "SELECT expire::text FROM session WHERE sid = ?", sid);
  }

  private static void assertSaved(SessionRecord record, SaveOutcome expected) {
    assertThat(store.save(record)).isEqualTo(expected);
  }

  /** A request a few seconds after the session was stored, with this interval. */
  private static void accessNow(SessionRecord record, int maxInactiveSeconds) {
    long now = System.currentTimeMillis() + 5_000;
    record.lastAccessed(record.accessed()).accessed(now).maxInactiveSeconds(maxInactiveSeconds);
    record.expiry(SessionRecord.expiryFor(now, maxInactiveSeconds));
  }

  private static SessionRecord newRecord() {
    SessionRecord record =
        new SessionRecord("keep-" + IDS.incrementAndGet(), System.currentTimeMillis(), 1800);
    record.attributes().put("a", "first");
    return record;
  }

  private static String stored() {
    SessionRecord record = newRecord();
    store.save(record);
    counting.reset();
    return record.sid();
  }
}
