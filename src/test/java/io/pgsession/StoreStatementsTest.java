package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.CountingDataSource;
import io.pgsession.testing.PostgresExtension;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** How many SQL statements each store operation costs: one, or none when nothing changed. */
class StoreStatementsTest {
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
            StoreStatementsTest.class.getClassLoader());
    store.ensureTable();
  }

  @BeforeEach
  void resetCount() {
    counting.reset();
  }

  @Test
  void insertIsOneStatement() {
    SessionRecord record = newRecord();

    assertThat(counting.countOf(() -> store.save(record))).isEqualTo(1);
  }

  @Test
  void aSessionCreatedJustNowIsOnePlainInsert() {
    SessionRecord record =
        SessionRecord.newSession(newRecord().sid(), System.currentTimeMillis(), 1800);

    assertThat(counting.countOf(() -> assertSaved(record, SaveOutcome.INSERTED))).isEqualTo(1);
    assertThat(counting.statements().get(0)).startsWith("INSERT").doesNotContain("ON CONFLICT");
  }

  @Test
  void aRecordNotReadFromTheTableOverwritesItsRowInOneStatement() {
    String sid = stored();
    SessionRecord record = new SessionRecord(sid, System.currentTimeMillis(), 1800);
    record.attributes().put("a", "kept elsewhere");

    assertThat(counting.countOf(() -> assertSaved(record, SaveOutcome.INSERTED))).isEqualTo(1);
    assertThat(store.load(sid).attributes()).containsEntry("a", "kept elsewhere");
  }

  @Test
  void aNewSessionWhoseIdHasARowAfterAllOverwritesItAndStaysWritable() {
    String sid = stored();
    SessionRecord record = SessionRecord.newSession(sid, System.currentTimeMillis(), 1800);
    record.attributes().put("a", "new");

    int statements = counting.countOf(() -> assertSaved(record, SaveOutcome.INSERTED));

    assertThat(statements).isEqualTo(2);
    assertThat(counting.statements().get(1)).contains("ON CONFLICT");
    assertThat(store.load(sid).attributes()).containsExactly(java.util.Map.entry("a", "new"));
    record.attributes().put("a", "changed");
    assertSaved(record, SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes()).containsEntry("a", "changed");
  }

  @Test
  void loadIsOneStatement() {
    String sid = stored();

    assertThat(counting.countOf(() -> store.load(sid))).isEqualTo(1);
  }

  @Test
  void unchangedRecordInsideTheTouchWindowWritesNothing() {
    SessionRecord record = store.load(stored());
    accessNow(record);

    int statements = counting.countOf(() -> assertSaved(record, SaveOutcome.UNCHANGED));

    assertThat(statements).isZero();
  }

  @Test
  void unchangedRecordAfterTheTouchWindowIsOneTouch() {
    String sid = stored();
    Sql.update(
        pg.dataSource(),
        "UPDATE session SET expire = expire - interval '10 minutes' WHERE sid = ?",
        sid);
    SessionRecord record = store.load(sid);
    accessNow(record);
    counting.reset();

    int statements = counting.countOf(() -> assertSaved(record, SaveOutcome.TOUCHED));

    assertThat(statements).isEqualTo(1);
    assertThat(counting.statements().get(0)).startsWith("UPDATE").doesNotContain("sess =");
  }

  @Test
  void changedAttributeIsOneStatement() {
    SessionRecord record = store.load(stored());
    record.attributes().put("a", 2);

    int statements = counting.countOf(() -> assertSaved(record, SaveOutcome.UPDATED));

    assertThat(statements).isEqualTo(1);
  }

  @Test
  void changeIdIsOneStatement() {
    String sid = stored();

    assertThat(counting.countOf(() -> store.changeId(sid, sid + "-new"))).isEqualTo(1);
  }

  @Test
  void deleteIsOneStatement() {
    String sid = stored();

    assertThat(counting.countOf(() -> store.delete(sid))).isEqualTo(1);
  }

  @Test
  void existsIsOneStatement() {
    String sid = stored();

    assertThat(counting.countOf(() -> store.exists(sid))).isEqualTo(1);
  }

  @Test
  void idThatCannotBeStoredCostsNoStatement() {
    assertThat(counting.countOf(() -> store.load("bad\u0000id"))).isZero();
  }

  private static void assertSaved(SessionRecord record, SaveOutcome expected) {
    assertThat(store.save(record)).isEqualTo(expected);
  }

  private static void accessNow(SessionRecord record) {
    long now = System.currentTimeMillis();
    record.lastAccessed(record.accessed()).accessed(now);
    record.expiry(SessionRecord.expiryFor(now, record.maxInactiveSeconds()));
  }

  private static SessionRecord newRecord() {
    SessionRecord record =
        new SessionRecord("count-" + IDS.incrementAndGet(), System.currentTimeMillis(), 1800);
    record.attributes().put("a", 1);
    return record;
  }

  private static String stored() {
    SessionRecord record = newRecord();
    store.save(record);
    counting.reset();
    return record.sid();
  }
}
