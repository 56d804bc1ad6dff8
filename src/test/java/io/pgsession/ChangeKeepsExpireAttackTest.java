package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.PostgresExtension;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sequences of saves against the rule that a change inside the touch window leaves {@code expire}
 * as stored: whatever the sequence, {@code expire} is never earlier than the last access says by
 * more than {@code touchFraction} of the interval, and each record's baseline holds the stored
 * expiry, so that its next save decides right.
 */
class ChangeKeepsExpireAttackTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static final double FRACTION = 0.1;
  private static PgSessionStore plain;
  private static PgSessionStore cached;

  @BeforeAll
  static void createStores() {
    plain = newStore(pg.dataSource(), PgSessionConfig.defaults());
    cached = newStore(pg.dataSource(), PgSessionConfig.builder().readCacheBytes(1 << 20).build());
    plain.ensureTable();
  }

  @Test
  void manyChangesInARowNeverLeaveExpireFurtherBehindThanTheTouchFraction() {
    for (PgSessionStore store : new PgSessionStore[] {plain, cached}) {
      SplittableRandom random = new SplittableRandom(7);
      SessionRecord record = newStored(store, 600);
      long now = record.accessed();
      for (int i = 0; i < 200; i++) {
        now += random.nextLong(0, 20_000);
        SessionRecord r = random.nextBoolean() ? store.load(record.sid()) : record;
        access(r, now, 600);
        r.attributes().put("n", i);
        assertThat(store.save(r)).isIn(SaveOutcome.UPDATED, SaveOutcome.MERGED);
        assertBound(r, now, 600);
        record = r;
      }
    }
  }

  @Test
  void changesAndReadOnlyRequestsOnTwoNodesKeepTheBound() {
    PgSessionStore other = newStore(pg.dataSource(), PgSessionConfig.defaults());
    PgSessionStore[] nodes = {plain, cached, other};
    SplittableRandom random = new SplittableRandom(11);
    SessionRecord first = newStored(plain, 900);
    String sid = first.sid();
    SessionRecord[] held = {first, null, null};
    long now = first.accessed();
    for (int i = 0; i < 300; i++) {
      now += random.nextLong(0, 40_000);
      int n = random.nextInt(nodes.length);
      // A node keeps its copy (as Jetty's session cache does) or reads the row again.
      SessionRecord r = held[n] != null && random.nextBoolean() ? held[n] : nodes[n].load(sid);
      access(r, now, 900);
      if (random.nextInt(3) > 0) {
        r.attributes().put("k" + random.nextInt(4), i);
      }
      SaveOutcome outcome = nodes[n].save(r);
      held[n] = r;
      if (outcome == SaveOutcome.UNCHANGED) {
        // A copy kept on one node may be behind the row: its baseline is then earlier, never later.
        assertThat(r.baseline.storedExpiry())
            .isLessThanOrEqualTo(Sql.storedExpiryMillis(pg.dataSource(), sid));
        assertThat(Sql.storedExpiryMillis(pg.dataSource(), sid))
            .isGreaterThan(now + 900_000 - 90_000);
      } else {
        assertBound(r, now, 900);
      }
    }
  }

  @Test
  void intervalChangesUpDownNeverAndZeroMoveExpireEachTime() {
    SessionRecord r = newStored(plain, 1800);
    long now = r.accessed();
    int[] intervals = {60, 1800, -1, -1, 0, 1800, 1800, 30, 31, 30};
    for (int interval : intervals) {
      now += 1_000;
      access(r, now, interval);
      r.attributes().put("i", interval);
      plain.save(r);
      if (interval <= 0) {
        assertThat(
                Sql.text(
                    pg.dataSource(), "SELECT expire::text FROM session WHERE sid = ?", r.sid()))
            .isEqualTo("infinity");
        assertThat(plain.exists(r.sid())).isTrue();
      } else {
        assertBound(r, now, interval);
      }
    }
  }

  @Test
  void aNodeWhoseClockIsBehindNeverMovesExpireEarlier() {
    SessionRecord r = newStored(plain, 1800);
    long stored = Sql.storedExpiryMillis(pg.dataSource(), r.sid());
    SessionRecord behind = plain.load(r.sid());
    access(behind, r.accessed() - 120_000, 1800);
    behind.attributes().put("b", "behind");

    plain.save(behind);

    assertThat(Sql.storedExpiryMillis(pg.dataSource(), r.sid())).isEqualTo(stored);
    assertThat(behind.baseline.storedExpiry()).isEqualTo(stored);
  }

  @Test
  void theLockedPathMovesExpireOnTheSameRuleAndTheBaselineFollows() {
    AtomicInteger bumps = new AtomicInteger(20);
    PgSessionStore contended =
        newStore(bumpingXmin(pg.dataSource(), bumps), PgSessionConfig.defaults());
    SessionRecord r = newStored(plain, 1800);
    long stored = Sql.storedExpiryMillis(pg.dataSource(), r.sid());
    long now = r.accessed() + 30_000;
    SessionRecord mine = contended.load(r.sid());
    access(mine, now, 1800);
    mine.attributes().put("m", "locked");

    assertThat(contended.save(mine)).isEqualTo(SaveOutcome.MERGED);

    // Inside the touch window: the document alone, as on the optimistic path.
    assertThat(Sql.storedExpiryMillis(pg.dataSource(), r.sid())).isEqualTo(stored);
    assertThat(mine.baseline.storedExpiry()).isEqualTo(stored);
    assertThat(plain.load(r.sid()).attributes()).containsEntry("m", "locked");

    bumps.set(20);
    long later = now + 240_000;
    access(mine, later, 1800);
    mine.attributes().put("m", "due");

    assertThat(contended.save(mine)).isEqualTo(SaveOutcome.MERGED);

    // Four minutes on, past a tenth of the interval: expire moves with the document.
    assertThat(Sql.storedExpiryMillis(pg.dataSource(), r.sid())).isEqualTo(later + 1_800_000);
    assertThat(mine.baseline.storedExpiry()).isEqualTo(later + 1_800_000);
    bumps.set(0);
    access(mine, later + 1_000, 1800);
    mine.attributes().put("m", "after");
    assertThat(contended.save(mine)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(Sql.storedExpiryMillis(pg.dataSource(), r.sid())).isEqualTo(later + 1_800_000);
    assertThat(plain.load(r.sid()).attributes()).containsEntry("m", "after");
  }

  @Test
  void aCutConnectionInTheDocumentOnlyUpdateNamesTheSessionAndLosesNothing() throws Exception {
    SessionRecord r = newStored(plain, 1800);
    long stored = Sql.storedExpiryMillis(pg.dataSource(), r.sid());
    access(r, r.accessed() + 5_000, 1800);
    r.attributes().put("a", "cut");

    Throwable thrown =
        CutConnection.whileWaiting(pg.dataSource(), "session", "UPDATE", () -> plain.save(r));

    assertThat(thrown).isInstanceOf(PgSessionException.class);
    assertThat(thrown.getMessage()).contains(r.sid()).contains("save");
    assertThat(plain.save(r)).isIn(SaveOutcome.UPDATED, SaveOutcome.MERGED);
    assertThat(plain.load(r.sid()).attributes()).containsEntry("a", "cut");
    assertThat(Sql.storedExpiryMillis(pg.dataSource(), r.sid())).isEqualTo(stored);
  }

  @Test
  void theReadCacheGivesTheStoredExpiryAfterADocumentOnlyUpdate() {
    SessionRecord r = newStored(cached, 1800);
    long stored = Sql.storedExpiryMillis(pg.dataSource(), r.sid());
    SessionRecord read = cached.load(r.sid());
    access(read, read.accessed() + 5_000, 1800);
    read.attributes().put("c", "cached");
    assertThat(cached.save(read)).isEqualTo(SaveOutcome.UPDATED);

    SessionRecord again = cached.load(r.sid());

    assertThat(again.expiry()).isEqualTo(stored);
    assertThat(again.baseline.storedExpiry()).isEqualTo(stored);
    assertThat(again.accessed()).isEqualTo(read.accessed());
    assertThat(again.attributes()).containsEntry("c", "cached");
  }

  @Test
  void cookieExpiresMayRunAheadOfExpireByLessThanTheTouchFraction() {
    SessionRecord r = newStored(plain, 1800);
    long stored = Sql.storedExpiryMillis(pg.dataSource(), r.sid());
    access(r, r.accessed() + 60_000, 1800);
    r.attributes().put("a", "later");

    assertThat(plain.save(r)).isEqualTo(SaveOutcome.UPDATED);

    long cookie =
        java.time.Instant.parse(
                Sql.text(
                    pg.dataSource(),
                    "SELECT sess->'cookie'->>'expires' FROM session WHERE sid = ?",
                    r.sid()))
            .toEpochMilli();
    assertThat(Sql.storedExpiryMillis(pg.dataSource(), r.sid())).isEqualTo(stored);
    assertThat(cookie).isEqualTo(r.expiry()).isGreaterThan(stored);
    assertThat(cookie - stored).isLessThan((long) (FRACTION * 1800 * 1000));
  }

  // ------------------------------------------------------------ helpers

  /**
   * {@code expire} is at most {@code touchFraction} of the interval earlier than the last access
   * says, and the record's baseline holds what is stored.
   */
  private static void assertBound(SessionRecord r, long accessed, int interval) {
    long column = Sql.storedExpiryMillis(pg.dataSource(), r.sid());
    long due = accessed + interval * 1000L;
    assertThat(column)
        .as("expire of %s after an access at %d with interval %d", r.sid(), accessed, interval)
        .isGreaterThan(due - (long) (FRACTION * interval * 1000L));
    assertThat(r.baseline).isNotNull();
    if (r.baseline.rowStamp() != null) {
      assertThat(r.baseline.storedExpiry()).as("baseline of %s", r.sid()).isEqualTo(column);
    }
  }

  private static void access(SessionRecord r, long now, int interval) {
    r.lastAccessed(r.accessed()).accessed(now).maxInactiveSeconds(interval);
    r.expiry(SessionRecord.expiryFor(now, interval));
  }

  private static SessionRecord newStored(PgSessionStore store, int interval) {
    SessionRecord r =
        new SessionRecord("atk-" + IDS.incrementAndGet(), System.currentTimeMillis(), interval);
    r.attributes().put("a", "first");
    store.save(r);
    return r;
  }

  private static PgSessionStore newStore(DataSource ds, PgSessionConfig config) {
    return new PgSessionStore(ds, config, ChangeKeepsExpireAttackTest.class.getClassLoader());
  }

  /**
   * Before each optimistic update (outside a transaction), while {@code bumps} lasts, another
   * connection rewrites every row as it is, giving it a new {@code xmin}: the save meets a conflict
   * every time and ends on the locked path.
   */
  private static DataSource bumpingXmin(DataSource target, AtomicInteger bumps) {
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              Object result = invoke(method, target, args);
              if (!method.getName().equals("getConnection")) {
                return result;
              }
              Connection c = (Connection) result;
              return Proxy.newProxyInstance(
                  Connection.class.getClassLoader(),
                  new Class<?>[] {Connection.class},
                  (p, m, a) -> {
                    if (m.getName().equals("prepareStatement")
                        && ((String) a[0]).startsWith("UPDATE")
                        && ((String) a[0]).contains("xmin =")
                        && c.getAutoCommit()
                        && bumps.getAndDecrement() > 0) {
                      Sql.update(target, "UPDATE session SET sess = sess");
                    }
                    return invoke(m, c, a);
                  });
            });
  }

  private static Object invoke(java.lang.reflect.Method m, Object target, Object[] args)
      throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
