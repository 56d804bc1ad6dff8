package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.CountingDataSource;
import io.pgsession.testing.PostgresExtension;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A store keeps what it read of a session and, while the row is the version it read, makes the next
 * read's record from that instead of the document. These tests hold that such a read gives what a
 * full read would, in copies of its own, and that any write by anyone is seen at once.
 */
class ReadCacheTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static CountingDataSource counting;
  private static PgSessionStore store;
  private static PgSessionStore otherNode;

  @BeforeAll
  static void createStores() {
    counting = CountingDataSource.wrap(pg.dataSource());
    store = newStore(counting.dataSource(), PgSessionConfig.defaults());
    otherNode = newStore(pg.dataSource(), PgSessionConfig.defaults());
    store.ensureTable();
  }

  private static PgSessionStore newStore(javax.sql.DataSource ds, PgSessionConfig config) {
    return new PgSessionStore(ds, config, ReadCacheTest.class.getClassLoader());
  }

  @Test
  void aSecondReadOfAnUnchangedSessionIsMadeWithoutTheDocumentAndEqualsAFullRead() {
    String sid = stored(sample());
    SessionRecord first = store.load(sid);
    long hits = store.readCache().hits();

    counting.reset();
    SessionRecord second = store.load(sid);

    assertThat(store.readCache().hits()).isEqualTo(hits + 1);
    assertThat(counting.count()).isEqualTo(1);
    assertThat(second.attributes()).isEqualTo(first.attributes()).isEqualTo(sample());
    assertThat(second.attributes().keySet()).containsExactlyElementsOf(sample().keySet());
    assertThat(second.attributes().get("count")).isInstanceOf(Long.class);
    assertThat(second.created()).isEqualTo(first.created());
    assertThat(second.accessed()).isEqualTo(first.accessed());
    assertThat(second.expiry()).isEqualTo(first.expiry());
    assertThat(second.maxInactiveSeconds()).isEqualTo(first.maxInactiveSeconds());
  }

  @Test
  void theReadAfterThisStoresOwnWriteIsMadeFromWhatItWroteAndAnotherNodeReadsTheSame() {
    String sid = "read-cache-" + IDS.incrementAndGet();
    SessionRecord r = new SessionRecord(sid, System.currentTimeMillis(), 1800);
    r.attributes().putAll(sample());
    store.save(r);
    long hits = store.readCache().hits();

    SessionRecord read = store.load(sid);
    list(read, "cart").add("pear");
    store.save(read);
    SessionRecord again = store.load(sid);

    assertThat(store.readCache().hits()).isEqualTo(hits + 2);
    assertThat(list(again, "cart")).containsExactly("apple", "pear");
    assertThat(again.attributes()).isEqualTo(otherNode.load(sid).attributes());
    assertThat(again.version()).isEqualTo(2);
  }

  @Test
  void eachReadGetsListsAndMapsOfItsOwn() {
    String sid = stored(sample());
    SessionRecord a = store.load(sid);
    SessionRecord b = store.load(sid);

    list(a, "cart").add("changed in a");
    map(a, "prefs").put("theme", "changed in a");
    SessionRecord c = store.load(sid);

    assertThat(b.attributes().get("cart")).isNotSameAs(a.attributes().get("cart"));
    assertThat(b.attributes()).isEqualTo(sample());
    assertThat(c.attributes()).isEqualTo(sample());
    assertThat(list(c, "cart")).isNotSameAs(list(b, "cart"));
  }

  @Test
  void aChangeMadeInPlaceToACopyIsStillWritten() {
    String sid = stored(sample());
    store.load(sid);
    SessionRecord cached = store.load(sid);

    list(cached, "cart").add("pear");

    assertThat(store.save(cached)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(list(otherNode.load(sid), "cart")).containsExactly("apple", "pear");
  }

  @Test
  void aWriteByAnotherNodeIsSeenAtTheNextRead() {
    String sid = stored(sample());
    store.load(sid);
    store.load(sid);

    SessionRecord there = otherNode.load(sid);
    there.attributes().put("user", "bob");
    otherNode.save(there);

    assertThat(store.load(sid).attributes()).containsEntry("user", "bob");
  }

  @Test
  void aWriteWithPlainSqlIsSeenAtTheNextRead() throws SQLException {
    String sid = stored(sample());
    store.load(sid);

    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE session SET sess = jsonb_set(sess::jsonb, '{user}', '\"carol\"')::json"
                    + " WHERE sid = ?")) {
      ps.setString(1, sid);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }

    assertThat(store.load(sid).attributes()).containsEntry("user", "carol");
  }

  @Test
  void aTouchByAnotherNodeIsSeenAtTheNextRead() throws SQLException {
    String sid = stored(sample());
    long before = store.load(sid).expiry();

    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE session SET expire = expire + interval '1 hour' WHERE sid = ?")) {
      ps.setString(1, sid);
      ps.executeUpdate();
    }

    assertThat(store.load(sid).expiry()).isEqualTo(before + 3_600_000L);
  }

  @Test
  void aTouchByThisStoreKeepsWhatWasReadUsable() {
    String sid = stored(sample());
    SessionRecord read = store.load(sid);
    long later = read.expiry() + 900_000L;
    read.accessed(read.accessed() + 900_000L).expiry(later);
    assertThat(store.save(read)).isEqualTo(SaveOutcome.TOUCHED);
    long hits = store.readCache().hits();

    SessionRecord again = store.load(sid);

    assertThat(store.readCache().hits()).isEqualTo(hits + 1);
    assertThat(again.expiry()).isEqualTo(later);
    assertThat(again.attributes()).isEqualTo(sample());
    SessionRecord full =
        newStore(pg.dataSource(), PgSessionConfig.builder().readCacheBytes(0).build()).load(sid);
    assertThat(again.accessed()).isEqualTo(full.accessed());
    assertThat(again.lastAccessed()).isEqualTo(full.lastAccessed());
    assertThat(again.created()).isEqualTo(full.created());
  }

  @Test
  void anInvalidatedSessionIsNotReadFromWhatWasKept() {
    String sid = stored(sample());
    store.load(sid);

    otherNode.delete(sid);

    assertThat(store.load(sid)).isNull();
    assertThat(store.readCache().get(sid)).isNull();
  }

  @Test
  void valuesWithoutASnapshotAreReadInFullEveryTime() {
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("tags", new HashSet<>(Set.of("a", "b")));
    attributes.put("price", new BigDecimal("9.90"));
    String sid = stored(attributes);
    long hits = store.readCache().hits();

    SessionRecord a = store.load(sid);
    SessionRecord b = store.load(sid);

    assertThat(store.readCache().hits()).isEqualTo(hits);
    assertThat(store.readCache().get(sid)).isNull();
    assertThat(b.attributes()).isEqualTo(attributes);
    assertThat(b.attributes().get("tags")).isNotSameAs(a.attributes().get("tags"));
  }

  @Test
  void aRenamedSessionIsReadUnderItsNewId() {
    String sid = stored(sample());
    store.load(sid);
    String renamed = "renamed-" + sid;

    assertThat(store.changeId(sid, renamed)).isTrue();

    assertThat(store.readCache().get(sid)).isNull();
    assertThat(store.load(sid)).isNull();
    assertThat(store.load(renamed).attributes()).isEqualTo(sample());
  }

  @Test
  void zeroReadCacheBytesReadsTheDocumentEveryTime() {
    CountingDataSource plain = CountingDataSource.wrap(pg.dataSource());
    PgSessionStore off =
        newStore(plain.dataSource(), PgSessionConfig.builder().readCacheBytes(0).build());
    String sid = stored(sample());

    off.load(sid);
    plain.reset();
    SessionRecord again = off.load(sid);

    assertThat(off.readCache()).isNull();
    assertThat(again.attributes()).isEqualTo(sample());
    assertThat(plain.statements()).singleElement().asString().doesNotContain("CASE WHEN xmin");
  }

  @Test
  void whatIsKeptStaysWithinReadCacheBytes() {
    long capacity = 64 * 1024;
    PgSessionStore small =
        newStore(pg.dataSource(), PgSessionConfig.builder().readCacheBytes(capacity).build());
    for (int i = 0; i < 300; i++) {
      small.load(stored(sample()));
      assertThat(small.readCache().weight()).isLessThanOrEqualTo(capacity);
    }
    assertThat(small.readCache().size()).isBetween(10, 299);
  }

  @Test
  void aSessionReadOftenStaysKeptWhileManyOthersComeAndGo() {
    PgSessionStore small =
        newStore(pg.dataSource(), PgSessionConfig.builder().readCacheBytes(64 * 1024).build());
    String hot = stored(sample());
    small.load(hot);
    for (int i = 1; i <= 300; i++) {
      small.load(stored(sample()));
      if (i % 5 == 0) {
        long hits = small.readCache().hits();
        small.load(hot);
        assertThat(small.readCache().hits())
            .as("read %d of the busy session", i / 5)
            .isEqualTo(hits + 1);
      }
    }
    assertThat(small.readCache().weight()).isEqualTo(small.readCache().recount());
  }

  @Test
  void manyShortStringsAreCountedAtTheHeapTheyTakeNotAtTheirJson() {
    PgSessionStore fresh = newStore(pg.dataSource(), PgSessionConfig.defaults());
    Map<String, Object> codes = new LinkedHashMap<>();
    for (int i = 0; i < 200; i++) {
      codes.put("k" + i, "v" + i);
    }
    String sid = stored(Map.of("codes", codes));

    fresh.load(sid);

    // Each entry is a map entry and two strings on the heap, about 150 bytes, against about 12
    // bytes of JSON.
    assertThat(fresh.readCache().weight()).isGreaterThan(200 * 100);
  }

  @Test
  void textBeyondLatin1AndLargeNumbersAreCountedAtTheHeapTheyTake() {
    long latin1 = weightOf(Map.of("text", "a".repeat(10_000)));
    long cjk = weightOf(Map.of("text", "\u4f1a".repeat(10_000)));
    long one = weightOf(Map.of("number", java.math.BigInteger.ONE));
    long huge = weightOf(Map.of("number", java.math.BigInteger.ONE.shiftLeft(80_000)));

    // Text outside Latin-1 takes two bytes a character, in the value and in its stored JSON.
    assertThat(cjk - latin1).isGreaterThan(18_000);
    // 2^80000 holds 10,000 bytes, besides the 24,083 digits of its JSON.
    assertThat(huge - one).isGreaterThan(24_000 + 9_000);
  }

  private static long weightOf(Map<String, Object> attributes) {
    PgSessionStore fresh = newStore(pg.dataSource(), PgSessionConfig.defaults());
    fresh.load(stored(attributes));
    return fresh.readCache().weight();
  }

  @Test
  void aReadAfterAWriteFinishedNeverGivesAnOlderVersion() throws Exception {
    Map<String, Object> attributes = new LinkedHashMap<>();
    attributes.put("n", 0L);
    String sid = stored(attributes);
    AtomicLong published = new AtomicLong();
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(5);
    try {
      Future<?> writer =
          pool.submit(
              () -> {
                for (long n = 1; n <= 150; n++) {
                  SessionRecord r = otherNode.load(sid);
                  r.attributes().put("n", n);
                  otherNode.save(r);
                  published.set(n);
                }
                done.set(true);
                return null;
              });
      List<Future<Integer>> readers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        readers.add(
            pool.submit(
                () -> {
                  int reads = 0;
                  while (!done.get()) {
                    long atLeast = published.get();
                    long seen = (Long) store.load(sid).attributes().get("n");
                    assertThat(seen).isGreaterThanOrEqualTo(atLeast);
                    reads++;
                  }
                  return reads;
                }));
      }
      writer.get(60, TimeUnit.SECONDS);
      int reads = 0;
      for (Future<Integer> r : readers) {
        reads += r.get(60, TimeUnit.SECONDS);
      }
      assertThat(reads).isGreaterThan(0);
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.load(sid).attributes()).containsEntry("n", 150L);
  }

  private static Map<String, Object> sample() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("user", "ann");
    a.put("count", 7L);
    a.put("cart", new ArrayList<>(List.of("apple")));
    Map<String, Object> prefs = new LinkedHashMap<>();
    prefs.put("theme", "dark");
    prefs.put("sizes", new ArrayList<>(List.of(1, 2)));
    a.put("prefs", prefs);
    return a;
  }

  private static String stored(Map<String, Object> attributes) {
    String sid = "read-cache-" + IDS.incrementAndGet();
    SessionRecord r = new SessionRecord(sid, System.currentTimeMillis(), 1800);
    r.attributes().putAll(attributes);
    otherNode.save(r);
    return sid;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(SessionRecord r, String name) {
    return (List<Object>) r.attributes().get(name);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(SessionRecord r, String name) {
    return (Map<String, Object>) r.attributes().get(name);
  }
}
