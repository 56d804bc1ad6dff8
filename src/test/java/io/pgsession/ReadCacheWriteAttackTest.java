package io.pgsession;

import static io.pgsession.SameRecords.DEFAULT_CACHE;
import static io.pgsession.SameRecords.VALUE_TYPES;
import static io.pgsession.SameRecords.assertSameRecord;
import static io.pgsession.SameRecords.counted;
import static io.pgsession.SameRecords.valueTypeStore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.PostgresExtension;
import io.pgsession.valuetypes.ValueTypes;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An adversarial review of what a save leaves in the read cache: the next read of a session this
 * store wrote is made from the template of what it wrote, and must give exactly what a store
 * without the cache reads from the row, whatever was written and however the cache turns over.
 */
class ReadCacheWriteAttackTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static PgSessionStore cached;
  private static PgSessionStore full;
  private static PgSessionStore other;

  @BeforeAll
  static void createStores() {
    cached = valueTypeStore(pg.dataSource(), DEFAULT_CACHE);
    full = valueTypeStore(pg.dataSource(), 0);
    other = valueTypeStore(pg.dataSource(), DEFAULT_CACHE);
    cached.ensureTable();
  }

  // ------------------------------------ values and text the row may not carry as given

  /**
   * A few locales do not survive their language tag ({@code no_NO_NY} reads back as {@code nn_NO}):
   * the save refuses them, naming the attribute, and writes the rest, so no node, this one
   * included, ever reads a value the row does not hold.
   */
  @Test
  void aLocaleItsLanguageTagCannotCarryIsRefusedAndEveryReadGivesWhatTheRowHolds() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().put("n", 1);
    r.attributes().put("locale", new Locale("no", "NO", "NY"));
    r.attributes().put("variant", new Locale("en", "US", "a-b"));

    assertThatThrownBy(() -> cached.save(r))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("attribute 'locale'")
        .hasMessageContaining("no_NO_NY")
        .hasMessageContaining("attribute 'variant'");

    SessionRecord fromRow = full.load(sid);
    assertThat(fromRow.attributes()).containsOnlyKeys("n");
    assertSameRecord(cached.load(sid), fromRow);
  }

  /** The same for an update: the locale keeps no place in the row, nor in what this store reads. */
  @Test
  void anUpdateWithALossyLocaleLeavesTheLocaleOutOfTheRowAndOfEveryRead() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().put("n", 1);
    r.attributes().put("locale", Locale.CANADA_FRENCH);
    cached.save(r);
    SessionRecord read = cached.load(sid);
    read.attributes().put("n", 2);
    read.attributes().put("locale", new Locale("no", "NO", "NY"));

    assertThatThrownBy(() -> cached.save(read)).isInstanceOf(PgSessionException.class);

    SessionRecord first = cached.load(sid);
    SessionRecord fromRow = full.load(sid);
    assertThat(fromRow.attributes())
        .containsEntry("n", 2)
        .containsEntry("locale", Locale.CANADA_FRENCH);
    assertSameRecord(first, fromRow);
    assertSameRecord(cached.load(sid), full.load(sid));
  }

  /**
   * YearMonth's toString leaves the '+' off years past 9999, which YearMonth.parse requires; such a
   * row must still be read, in full and from the cache alike, as the value that was saved.
   */
  @Test
  void aYearMonthPastYear9999IsReadBackInFullAndFromTheCache() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().put("user", "ann");
    r.attributes().put("until", YearMonth.of(10_000, 1));
    assertThat(cached.save(r)).isEqualTo(SaveOutcome.INSERTED);

    SessionRecord fromCache = cached.load(sid);
    SessionRecord fromRow = full.load(sid);

    assertThat(fromCache == null)
        .as("the cached read is absent exactly when the full read is (cached: %s)", fromCache)
        .isEqualTo(fromRow == null);
    assertThat(fromRow).as("the row this store just saved, read in full").isNotNull();
    assertThat(fromRow.attributes()).containsEntry("until", YearMonth.of(10_000, 1));
    assertSameRecord(fromCache, fromRow);
  }

  /**
   * The metadata is written without the check attribute names and values get, so a lone surrogate
   * in lastNode (or the context) reaches the row as '?': what this store reads must be that too.
   */
  @Test
  void aLastNodeOrContextWithALoneSurrogateIsReadAfterThisStoresSaveAsTheRowHoldsIt() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.lastNode("node-\ud800").context("/app-\udc00");
    r.attributes().put("n", 1);
    try {
      cached.save(r);
    } catch (PgSessionException refused) {
      // Refusing such metadata would be a fix: nothing was written, nothing was kept.
      assertThat(full.load(sid)).isNull();
      return;
    }

    SessionRecord fromCache = cached.load(sid);
    SessionRecord fromRow = full.load(sid);

    assertSameRecord(fromCache, fromRow);
  }

  /**
   * Threads adding at once to a nearly full young generation must not all take its last room:
   * otherwise it stays over half the capacity, and with a full old generation the cache holds more
   * than readCacheBytes, at rest, until the next turnover.
   */
  @Test
  void concurrentPutsIntoANearlyFullYoungGenerationNeverTakeTheCacheOverItsCapacity()
      throws Exception {
    SessionDocument.Template template = template(Map.of());
    long w = template.footprint();
    long capacity = 8 * w;
    int threads = 2;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long worst = 0;
    try {
      for (int round = 0; round < 300 && worst <= capacity; round++) {
        ReadCache cache = new ReadCache(capacity);
        // Four fill the young generation; the fifth turns it old; two more leave room for one.
        for (int i = 0; i < 7; i++) {
          cache.put("pre-" + i, "1", template);
        }
        AtomicInteger ready = new AtomicInteger();
        List<Future<?>> puts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          String sid = "racer-" + t;
          puts.add(
              pool.submit(
                  () -> {
                    ready.incrementAndGet();
                    while (ready.get() < threads) {
                      Thread.onSpinWait();
                    }
                    cache.put(sid, "1", template);
                  }));
        }
        for (Future<?> put : puts) {
          put.get(10, TimeUnit.SECONDS);
        }
        assertThat(cache.weight()).isEqualTo(cache.recount());
        worst = Math.max(worst, cache.weight());
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(worst).as("the weight at rest, capacity %d", capacity).isLessThanOrEqualTo(capacity);
  }

  // ------------------------------------ every kind of save, turnover, concurrency

  @Test
  void aReadAfterEachKindOfSaveOfEveryShapeEqualsAFullRead() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.context("/shop").lastNode("node-1").attributes().putAll(shapes());
    assertThat(cached.save(r)).isEqualTo(SaveOutcome.INSERTED);
    assertCachedReadEqualsFullRead(sid);

    SessionRecord read = cached.load(sid);
    read.attributes().put("zone", ZoneId.of("UTC+01:00"));
    read.attributes().put("day", LocalDate.of(-5, 1, 1));
    read.attributes().put("price", new BigDecimal("-0E-7"));
    read.maxInactiveSeconds(0).expiry(0).context("").lastNode(null);
    assertThat(cached.save(read)).isEqualTo(SaveOutcome.UPDATED);
    assertCachedReadEqualsFullRead(sid);

    SessionRecord again = cached.load(sid);
    again.maxInactiveSeconds(-7).expiry(0);
    assertThat(cached.save(again)).isEqualTo(SaveOutcome.UPDATED);
    assertCachedReadEqualsFullRead(sid);

    again.maxInactiveSeconds(60).expiry(SessionRecord.expiryFor(System.currentTimeMillis(), 60));
    assertThat(cached.save(again)).isEqualTo(SaveOutcome.UPDATED);
    assertCachedReadEqualsFullRead(sid);
  }

  @Test
  void aTouchAfterASaveKeepsTheTemplateUsableAndEqualToAFullRead() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().putAll(shapes());
    cached.save(r);
    r.accessed(r.accessed() + 1_200_000L).expiry(r.expiry() + 1_200_000L);

    assertThat(cached.save(r)).isEqualTo(SaveOutcome.TOUCHED);
    long hits = cached.readCache().hits();
    SessionRecord read = cached.load(sid);

    assertThat(cached.readCache().hits()).isEqualTo(hits + 1);
    assertSameRecord(read, full.load(sid));
    assertThat(read.expiry()).isEqualTo(full.load(sid).expiry());
  }

  @Test
  void aChangeIdRightAfterASaveLeavesNothingUnderTheOldIdAndTheNewIdEqualToAFullRead() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().putAll(shapes());
    cached.save(r);
    String renamed = next();

    assertThat(cached.changeId(sid, renamed)).isTrue();

    assertThat(cached.load(sid)).isNull();
    assertCachedReadEqualsFullRead(renamed);
    SessionRecord moved = r.withSid(renamed);
    moved.attributes().put("user", "after the rename");
    assertThat(cached.save(moved)).isIn(SaveOutcome.UPDATED, SaveOutcome.MERGED);
    assertCachedReadEqualsFullRead(renamed);
    assertThat(full.load(renamed).attributes()).containsEntry("user", "after the rename");
  }

  @Test
  void aSessionDeletedAndCreatedAgainByThisStoreIsReadAsTheNewOne() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().putAll(shapes());
    cached.save(r);
    cached.load(sid);

    assertThat(cached.delete(sid)).isTrue();
    assertThat(cached.load(sid)).isNull();
    r.attributes().put("user", "a request still holding the deleted session");
    assertThat(cached.save(r)).isEqualTo(SaveOutcome.GONE);
    SessionRecord again = newRecord(sid);
    again.attributes().put("user", "someone else");
    cached.save(again);

    assertThat(cached.load(sid).attributes()).containsOnlyKeys("user");
    assertCachedReadEqualsFullRead(sid);
  }

  @Test
  void aSaveMergedOverAnotherStoresWriteAndTheUpdateAfterItAreReadAsTheRowHoldsThem() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().putAll(counted(1));
    cached.save(r);
    SessionRecord mine = cached.load(sid);
    SessionRecord theirs = other.load(sid);
    theirs.attributes().put("theirs", new ArrayList<>(List.of(1L, "x")));
    theirs.attributes().remove("pair");
    other.save(theirs);

    mine.attributes().put("mine", new LinkedHashMap<>(Map.of("k", 2)));
    assertThat(cached.save(mine)).isEqualTo(SaveOutcome.MERGED);
    assertCachedReadEqualsFullRead(sid);

    mine.attributes().put("n", 99L);
    assertThat(cached.save(mine)).isEqualTo(SaveOutcome.UPDATED);
    assertCachedReadEqualsFullRead(sid);
    assertThat(full.load(sid).attributes())
        .containsKeys("theirs", "mine")
        .doesNotContainKey("pair")
        .containsEntry("n", 99L);
  }

  @Test
  void aSaveThatCouldNotEncodeANewAttributeIsReadWithoutItAsTheRowHoldsIt() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().putAll(counted(1));
    r.attributes().put("thread", new Thread("not storable"));
    r.attributes().put("bad key", new LinkedHashMap<>(Map.of("\ud800", 1)));

    assertThatThrownBy(() -> cached.save(r)).isInstanceOf(PgSessionException.class);

    assertThat(cached.load(sid).attributes()).doesNotContainKeys("thread", "bad key");
    assertCachedReadEqualsFullRead(sid);
  }

  @Test
  void aSaveWithValuesThatHaveNoSnapshotKeepsNothingAndReadsInFull() {
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().put("point", new ValueTypes.Point(1, 2));
    r.attributes().put("n", 1);
    cached.save(r);

    long hits = cached.readCache().hits();
    SessionRecord read = cached.load(sid);

    assertThat(cached.readCache().hits()).isEqualTo(hits);
    assertSameRecord(read, full.load(sid));
  }

  @Test
  void aSessionOfExactlyAnEighthOfTheCapacityIsKeptAndOneOfAnEighthPlusOneIsNot() {
    Map<String, Object> attributes = counted(3);
    long w = template(attributes).footprint();
    PgSessionStore exact = cachedStore(8 * w);
    PgSessionStore under = cachedStore(8 * w - 1);
    String sid = next();
    SessionRecord r = newRecord(sid);
    r.attributes().putAll(attributes);
    other.save(r);
    String written = next();
    SessionRecord w1 = newRecord(written);
    w1.attributes().putAll(attributes);

    exact.load(sid);
    under.load(sid);
    exact.save(w1);

    assertThat(exact.readCache().weight()).isEqualTo(2 * w).isEqualTo(exact.readCache().recount());
    assertThat(under.readCache().size()).isZero();
    assertSameRecord(exact.load(sid), full.load(sid));
    assertSameRecord(exact.load(written), full.load(written));
  }

  @Test
  void aSessionUsedFromTheOldGenerationSurvivesTurnoverAndIsCountedOncePerGeneration() {
    SessionDocument.Template t = template(Map.of());
    long w = t.footprint();
    ReadCache cache = new ReadCache(8 * w);
    cache.put("kept", "1", t);
    for (int i = 0; i < 4; i++) {
      cache.put("filler-" + i, "1", t);
    }
    // "kept" is old now; used, it moves young and outlives the next turnover.
    cache.hit("kept", cache.get("kept"));
    for (int i = 4; i < 10; i++) {
      cache.put("filler-" + i, "1", t);
    }

    assertThat(cache.get("kept")).isNotNull();
    assertThat(cache.get("filler-0")).isNull();
    assertThat(cache.weight()).isEqualTo(cache.recount()).isLessThanOrEqualTo(8 * w);
  }

  @Test
  void manyThreadsSavingAndLoadingFewSessionsOnTwoStoresWithATinyCacheReadWhatTheRowHolds()
      throws Exception {
    long capacity = 12 * 1024;
    PgSessionStore a = cachedStore(capacity);
    PgSessionStore b = cachedStore(capacity);
    int sessions = 24;
    String[] sids = new String[sessions];
    for (int i = 0; i < sessions; i++) {
      sids[i] = next();
      SessionRecord r = newRecord(sids[i]);
      r.attributes().putAll(counted(0));
      a.save(r);
    }
    int threads = 6;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        PgSessionStore s = t % 2 == 0 ? a : b;
        int thread = t;
        workers.add(
            pool.submit(
                () -> {
                  int done = 0;
                  for (int step = 0; step < 60; step++) {
                    String sid = sids[(step * 7 + thread) % sessions];
                    SessionRecord r = s.load(sid);
                    long n = (Long) r.attributes().get("n");
                    assertThat(r.attributes()).containsAllEntriesOf(counted(n));
                    if (step % 3 == thread % 3) {
                      r.attributes().putAll(counted(n + 1));
                      r.attributes().put("t" + thread, step);
                      s.save(r);
                    }
                    done++;
                  }
                  return done;
                }));
      }
      for (Future<Integer> w : workers) {
        assertThat(w.get(60, TimeUnit.SECONDS)).isEqualTo(60);
      }
    } finally {
      pool.shutdownNow();
    }
    for (PgSessionStore s : List.of(a, b)) {
      assertThat(s.readCache().weight()).isEqualTo(s.readCache().recount());
      for (String sid : sids) {
        assertSameRecord(s.load(sid), full.load(sid));
        assertSameRecord(s.load(sid), full.load(sid));
      }
    }
  }

  // ------------------------------------------------------------ helpers

  private static PgSessionStore cachedStore(long bytes) {
    return valueTypeStore(pg.dataSource(), bytes);
  }

  /** The template a save of these attributes (each its own snapshot) would keep. */
  private static SessionDocument.Template template(Map<String, Object> attributes) {
    SessionDocument document =
        new SessionDocument(
            new ValueCodec(
                new TypeAllowlist(List.of(VALUE_TYPES)),
                ReadCacheWriteAttackTest.class.getClassLoader()));
    Map<String, String> json = new LinkedHashMap<>();
    Map<String, Object> snapshots = new HashMap<>();
    for (Map.Entry<String, Object> e : attributes.entrySet()) {
      Object snapshot = Snapshots.of(e.getValue());
      json.put(e.getKey(), document.encodeValue(snapshot));
      snapshots.put(e.getKey(), snapshot);
    }
    return SessionDocument.written(newRecord("template"), json, snapshots, 1);
  }

  private static void assertCachedReadEqualsFullRead(String sid) {
    cached.load(sid);
    long hits = cached.readCache().hits();
    SessionRecord fromCache = cached.load(sid);
    assertSameRecord(fromCache, full.load(sid));
    assertThat(cached.readCache().hits()).as("read from the cache").isGreaterThan(hits);
  }

  private static SessionRecord newRecord(String sid) {
    return new SessionRecord(sid, System.currentTimeMillis(), 1800);
  }

  private static String next() {
    return "read-cache-write-attack-" + IDS.incrementAndGet();
  }

  /** Values of every kind that has a snapshot, nested. */
  private static Map<String, Object> shapes() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("user", "ännü \ud83d\ude00 \u4e2d");
    a.put("nul", "a\0b");
    a.put("int", 7);
    a.put("long", 7L);
    a.put("short", (short) 7);
    a.put("byte", (byte) 7);
    a.put("char", 'x');
    a.put("float", 1.5f);
    a.put("double", -0.0);
    a.put("nan", Double.NaN);
    a.put("inf", Float.NEGATIVE_INFINITY);
    a.put("bool", Boolean.TRUE);
    a.put("none", null);
    a.put("price", new BigDecimal("9.90"));
    a.put("day", LocalDate.of(12_345, 2, 28));
    a.put("zone", ZoneId.of("Europe/Paris"));
    a.put("locale", Locale.CANADA_FRENCH);
    a.put("level", ValueTypes.Level.HIGH);
    a.put("cookie", "named like the cookie");
    a.put("~x", new ArrayList<>(List.of("escaped")));
    a.put("", "empty name");
    List<Object> nested = new ArrayList<>();
    nested.add(1);
    nested.add(1L);
    nested.add(null);
    Map<Object, Object> keyed = new LinkedHashMap<>();
    keyed.put(1, "int key");
    keyed.put(ValueTypes.Level.LOW, new ArrayList<>(List.of(2.0, 'c')));
    nested.add(keyed);
    Map<String, Object> tagged = new LinkedHashMap<>();
    tagged.put("@t", "looks like a tag");
    nested.add(tagged);
    a.put("nested", nested);
    return a;
  }
}
