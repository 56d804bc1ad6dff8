package io.pgsession;

import static io.pgsession.SameRecords.DEFAULT_CACHE;
import static io.pgsession.SameRecords.assertSameRecord;
import static io.pgsession.SameRecords.assertSameValue;
import static io.pgsession.SameRecords.counted;
import static io.pgsession.SameRecords.valueTypeStore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.PostgresExtension;
import io.pgsession.valuetypes.ValueTypes;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An adversarial review of the read cache: a read answered from what a store kept must give exactly
 * what a store without the cache reads from the same row, in copies of its own, whoever wrote the
 * row and however it was rewritten.
 */
class ReadCacheAttackTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static PgSessionStore cached;
  private static PgSessionStore full;
  private static PgSessionStore writer;

  @BeforeAll
  static void createStores() {
    cached = valueTypeStore(pg.dataSource(), DEFAULT_CACHE);
    full = valueTypeStore(pg.dataSource(), 0);
    writer = valueTypeStore(pg.dataSource(), DEFAULT_CACHE);
    cached.ensureTable();
  }

  // ------------------------------------------------------------ same as a full read

  @Test
  void aCachedReadOfManyValueShapesEqualsAFullReadInEveryFieldAndClass() {
    String sid = written(shapes());
    cached.load(sid);
    long hits = cached.readCache().hits();

    SessionRecord fromCache = cached.load(sid);
    SessionRecord fromRow = full.load(sid);

    assertThat(cached.readCache().hits()).isEqualTo(hits + 1);
    assertSameRecord(fromCache, fromRow);
    assertSameValue(fromCache.attributes(), shapes());
  }

  @Test
  void aReadAfterThisStoresOwnCreateAndUpdateIsCachedAndEqualsAFullRead() {
    String sid = next();
    SessionRecord created = new SessionRecord(sid, System.currentTimeMillis() - 5_000, 1800);
    created.context("/shop").lastNode("node-7").attributes().putAll(shapes());
    assertThat(cached.save(created)).isEqualTo(SaveOutcome.INSERTED);

    long hits = cached.readCache().hits();
    SessionRecord afterCreate = cached.load(sid);
    assertThat(cached.readCache().hits()).as("read after the create").isEqualTo(hits + 1);
    assertSameRecord(afterCreate, full.load(sid));

    afterCreate.attributes().put("int", 8);
    afterCreate.attributes().remove("user");
    nestedList(afterCreate).add(new LinkedHashMap<>(Map.of("added", new ArrayList<>())));
    map(afterCreate, "prefs").put("theme", null);
    afterCreate.attributes().put("new", new ArrayList<>(List.of(1.25f, 'q', Double.NaN)));
    afterCreate.maxInactiveSeconds(60).accessed(System.currentTimeMillis()).lastNode("node-8");
    afterCreate.expiry(SessionRecord.expiryFor(afterCreate.accessed(), 60));
    assertThat(cached.save(afterCreate)).isEqualTo(SaveOutcome.UPDATED);

    hits = cached.readCache().hits();
    SessionRecord afterUpdate = cached.load(sid);
    assertThat(cached.readCache().hits()).as("read after the update").isEqualTo(hits + 1);
    assertSameRecord(afterUpdate, full.load(sid));
    assertThat(afterUpdate.attributes()).containsEntry("int", 8).doesNotContainKey("user");
  }

  @Test
  void aReadAfterThisStoresOwnSaveOfASessionThatNeverExpiresEqualsAFullRead() {
    String sid = next();
    SessionRecord r = new SessionRecord(sid, System.currentTimeMillis(), -1);
    r.attributes().putAll(counted(3));
    cached.save(r);

    assertSameRecord(cached.load(sid), full.load(sid));
  }

  @Test
  void aSaveThatCouldNotStoreAnAttributeLeavesReadsEqualToTheRow() {
    String sid = written(counted(1));
    SessionRecord r = cached.load(sid);
    r.attributes().put("n", 2L);
    r.attributes().put("thread", new Thread("not storable"));

    assertThatThrownBy(() -> cached.save(r)).isInstanceOf(PgSessionException.class);

    SessionRecord again = cached.load(sid);
    assertSameRecord(again, full.load(sid));
    assertThat(again.attributes()).containsEntry("n", 2L).doesNotContainKey("thread");
  }

  @Test
  void aCachedReadOfDocumentsWrittenByOtherProgramsEqualsAFullRead() {
    List<String> documents =
        List.of(
            // express-session without a maxAge, expire infinity
            "{\"cookie\":{\"originalMaxAge\":null,\"expires\":null,\"httpOnly\":true,\"path\":\"/\"},"
                + "\"user\":\"ann\",\"n\":3,\"cart\":[1,2.5,\"x\",null,{\"a\":[]}]}",
            // a cookie with a maxAge, no pgsession block
            "{\"cookie\":{\"originalMaxAge\":600000,\"path\":\"/\"},\"flash\":{\"info\":[\"hi\"]}}",
            // reserved and escaped names, non-ASCII text and keys
            "{\"~cookie\":\"c\",\"~pgsession\":[1],\"~~x\":{\"é\":\"ü\u00df\\ud83d\\ude00\"},"
                + "\"cookie\":{\"originalMaxAge\":1000},\"\":\"empty name\"}",
            // a key repeated: the last value counts, in the first one's place
            "{\"a\":[1],\"b\":2,\"a\":{\"c\":[true,false]}}",
            // a pgsession block with fields of the wrong types
            "{\"pgsession\":{\"format\":1,\"version\":\"x\",\"created\":\"y\",\"maxInactive\":"
                + "\"z\",\"context\":7,\"node\":null},\"cookie\":{\"originalMaxAge\":60000},"
                + "\"z\":-0.0,\"big\":123456789012345678901234567890,\"e\":1.0E-7}");
    for (String json : documents) {
      String sid = next();
      Sql.update(
          pg.dataSource(),
          "INSERT INTO session (sid, sess, expire) VALUES (?, ?::json, 'infinity')",
          sid,
          json);
      cached.load(sid);

      SessionRecord before = full.load(sid);
      SessionRecord fromCache = cached.load(sid);
      SessionRecord after = full.load(sid);

      assertThat(fromCache).as(json).isNotNull();
      // Without a pgsession block the times are those of the read itself.
      assertThat(fromCache.created()).isBetween(before.created(), after.created());
      assertThat(fromCache.accessed()).isBetween(before.accessed(), after.accessed());
      assertThat(fromCache.lastAccessed()).isBetween(before.lastAccessed(), after.lastAccessed());
      fromCache.created(after.created()).accessed(after.accessed());
      fromCache.lastAccessed(after.lastAccessed());
      assertSameRecord(fromCache, after);
    }
  }

  @Test
  void aCachedReadOfANodeDocumentWithAFiniteExpireAndNoMaxAgeEqualsAFullRead() {
    String sid = next();
    Sql.update(
        pg.dataSource(),
        "INSERT INTO session (sid, sess, expire)"
            + " VALUES (?, '{\"cookie\":{\"path\":\"/\"},\"n\":1}'::json,"
            + " timezone('UTC', now()) + interval '1 hour')",
        sid);
    cached.load(sid);

    SessionRecord fromCache = cached.load(sid);
    SessionRecord fromRow = full.load(sid);

    // The interval is derived from the time left, so reads a moment apart may differ by a second.
    assertThat(fromCache.expiry()).isEqualTo(fromRow.expiry());
    assertThat(fromCache.maxInactiveSeconds()).isCloseTo(fromRow.maxInactiveSeconds(), within(1));
    assertThat(fromCache.attributes()).isEqualTo(fromRow.attributes()).containsEntry("n", 1);
  }

  // ------------------------------------------------------------ copies of its own

  @Test
  void concurrentCachedReadsChangingTheirCopiesDeeplyNeverSeeEachOthersChanges() throws Exception {
    String sid = written(shapes());
    cached.load(sid);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> readers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int thread = t;
        readers.add(
            pool.submit(
                () -> {
                  int checked = 0;
                  for (int i = 0; i < 150; i++) {
                    SessionRecord r = cached.load(sid);
                    assertSameValue(r.attributes(), shapes());
                    scribble(r.attributes(), "thread " + thread);
                    checked++;
                  }
                  return checked;
                }));
      }
      int checked = 0;
      for (Future<Integer> reader : readers) {
        checked += reader.get(60, TimeUnit.SECONDS);
      }
      assertThat(checked).isEqualTo(600);
    } finally {
      pool.shutdownNow();
    }
    assertSameValue(cached.load(sid).attributes(), shapes());
    assertSameValue(full.load(sid).attributes(), shapes());
  }

  @Test
  void twoCachedReadsChangingDifferentValuesInPlaceBothReachTheRow() {
    String sid = written(shapes());
    cached.load(sid);
    SessionRecord first = cached.load(sid);
    SessionRecord second = cached.load(sid);

    nestedList(first).add("from first");
    map(second, "prefs").put("added", "from second");

    assertThat(cached.save(first)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(cached.save(second)).isEqualTo(SaveOutcome.MERGED);
    SessionRecord after = full.load(sid);
    assertThat(nestedList(after)).endsWith("from first");
    assertThat(map(after, "prefs")).containsEntry("added", "from second");
    assertSameRecord(cached.load(sid), after);
  }

  @Test
  void anUnchangedSaveOfACachedReadLeavesTheNextCachedReadEqualToTheRow() {
    String sid = written(shapes());
    cached.load(sid);
    SessionRecord read = cached.load(sid);

    SaveOutcome outcome = cached.save(read);
    nestedList(read).add("changed after the save");

    assertThat(outcome).isEqualTo(SaveOutcome.UNCHANGED);
    assertSameRecord(cached.load(sid), full.load(sid));
    assertThat(cached.save(read)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(nestedList(full.load(sid))).endsWith("changed after the save");
  }

  // ------------------------------------------------------------ row versions

  @Test
  void aRowRewrittenByVacuumFullIsStillReadAsItIs() {
    String sid = written(shapes());
    cached.load(sid);

    Sql.update(pg.dataSource(), "VACUUM FULL session");
    SessionRecord afterVacuum = cached.load(sid);
    SessionRecord there = writer.load(sid);
    there.attributes().put("user", "changed before a vacuum");
    writer.save(there);
    Sql.update(pg.dataSource(), "VACUUM (FULL, FREEZE) session");
    SessionRecord afterWriteAndVacuum = cached.load(sid);

    assertSameValue(afterVacuum.attributes(), shapes());
    assertThat(afterWriteAndVacuum.attributes()).containsEntry("user", "changed before a vacuum");
    assertSameRecord(afterWriteAndVacuum, full.load(sid));
  }

  @Test
  void aSessionDeletedAndCreatedAgainUnderTheSameIdIsReadAsTheNewOne() {
    String sid = written(shapes());
    cached.load(sid);
    cached.load(sid);

    writer.delete(sid);
    SessionRecord again = new SessionRecord(sid, System.currentTimeMillis(), 60);
    again.attributes().put("user", "someone else");
    writer.save(again);

    SessionRecord read = cached.load(sid);
    assertThat(read.attributes()).containsOnlyKeys("user").containsEntry("user", "someone else");
    assertThat(read.maxInactiveSeconds()).isEqualTo(60);
    assertSameRecord(cached.load(sid), full.load(sid));
  }

  @Test
  void sessionsWhoseIdsWereSwappedInOneTransactionAreReadUnderTheirNewIds() throws SQLException {
    Map<String, Object> a = Map.of("owner", "a");
    Map<String, Object> b = Map.of("owner", "b");
    String sidA = written(new LinkedHashMap<>(a));
    String sidB = written(new LinkedHashMap<>(b));
    cached.load(sidA);
    cached.load(sidB);

    try (Connection c = pg.dataSource().getConnection()) {
      c.setAutoCommit(false);
      rename(c, sidA, sidA + "-swap");
      rename(c, sidB, sidA);
      rename(c, sidA + "-swap", sidB);
      c.commit();
    }

    assertThat(cached.load(sidA).attributes()).containsEntry("owner", "b");
    assertThat(cached.load(sidB).attributes()).containsEntry("owner", "a");
  }

  @Test
  void aSessionRenamedByAnotherNodeAndItsOldIdReusedIsReadCorrectlyUnderBoth() {
    String sid = written(shapes());
    cached.load(sid);
    String renamed = next();

    assertThat(writer.changeId(sid, renamed)).isTrue();
    SessionRecord newcomer = new SessionRecord(sid, System.currentTimeMillis(), 1800);
    newcomer.attributes().put("user", "newcomer");
    writer.save(newcomer);

    assertThat(cached.load(sid).attributes()).containsOnlyKeys("user");
    assertSameValue(cached.load(renamed).attributes(), shapes());
    assertSameRecord(cached.load(sid), full.load(sid));
  }

  @Test
  void aTouchByThisStoreAfterAnotherNodesWriteDoesNotBringBackTheOldDocument() {
    String sid = written(shapes());
    SessionRecord stale = cached.load(sid);
    SessionRecord there = writer.load(sid);
    there.attributes().put("user", "changed there");
    writer.save(there);

    stale.accessed(stale.accessed() + 1_200_000L).expiry(stale.expiry() + 1_200_000L);
    SaveOutcome outcome = cached.save(stale);

    assertThat(outcome).isEqualTo(SaveOutcome.TOUCHED);
    assertThat(cached.load(sid).attributes()).containsEntry("user", "changed there");
    assertSameRecord(cached.load(sid), full.load(sid));
  }

  // ------------------------------------------------------------ under load

  @Test
  void writersOnTwoStoresAndReadersOnAThirdWithATinyCacheNeverSeeAnOlderOrTornSession()
      throws Exception {
    long capacity = 16 * 1024;
    PgSessionStore reader = valueTypeStore(pg.dataSource(), capacity);
    PgSessionStore otherWriter = valueTypeStore(pg.dataSource(), DEFAULT_CACHE);
    int sessions = 40;
    String[] sids = new String[sessions];
    for (int i = 0; i < sessions; i++) {
      sids[i] = written(counted(0));
    }
    AtomicLongArray published = new AtomicLongArray(sessions);
    ExecutorService pool = Executors.newFixedThreadPool(5);
    Map<String, Boolean> seenWeights = new ConcurrentHashMap<>();
    try {
      List<Future<?>> writers = new ArrayList<>();
      for (PgSessionStore w : List.of(writer, otherWriter)) {
        writers.add(
            pool.submit(
                () -> {
                  for (int step = 0; step < 120; step++) {
                    int i = step % sessions;
                    SessionRecord r = w.load(sids[i]);
                    long n = (Long) r.attributes().get("n") + 1;
                    r.attributes().putAll(counted(n));
                    w.save(r);
                    published.accumulateAndGet(i, n, Math::max);
                  }
                  return null;
                }));
      }
      List<Future<Integer>> readers = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        int offset = t * 7;
        readers.add(
            pool.submit(
                () -> {
                  int reads = 0;
                  for (int step = 0; step < 400; step++) {
                    int i = (step + offset) % sessions;
                    long atLeast = published.get(i);
                    SessionRecord r = reader.load(sids[i]);
                    long n = (Long) r.attributes().get("n");
                    assertThat(n).as("session %d", i).isGreaterThanOrEqualTo(atLeast);
                    assertSameValue(r.attributes(), counted(n));
                    long weight = reader.readCache().weight();
                    if (weight > capacity + 8 * 1024 || weight < -8 * 1024) {
                      seenWeights.put("weight " + weight, true);
                    }
                    reads++;
                  }
                  return reads;
                }));
      }
      for (Future<?> w : writers) {
        w.get(120, TimeUnit.SECONDS);
      }
      for (Future<Integer> r : readers) {
        assertThat(r.get(120, TimeUnit.SECONDS)).isEqualTo(400);
      }
    } finally {
      pool.shutdownNow();
    }
    ReadCache cache = reader.readCache();
    assertThat(seenWeights).isEmpty();
    assertThat(cache.weight()).isEqualTo(cache.recount()).isBetween(0L, capacity);
    for (String sid : sids) {
      assertSameRecord(reader.load(sid), full.load(sid));
    }
  }

  // ------------------------------------------------------------ helpers

  /** Values of every kind the cache keeps, nested, with nulls and look-alike numbers. */
  private static Map<String, Object> shapes() {
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("user", "ännü \ud83d\ude00 \u4e2d");
    a.put("int", 7);
    a.put("long", 7L);
    a.put("short", (short) 7);
    a.put("byte", (byte) 7);
    a.put("char", 'x');
    a.put("float", 1.5f);
    a.put("double", -0.0);
    a.put("nan", Double.NaN);
    a.put("bool", Boolean.TRUE);
    a.put("none", null);
    a.put("price", new BigDecimal("9.90"));
    a.put("huge", new BigInteger("123456789012345678901234567890"));
    a.put("uuid", UUID.fromString("00000000-0000-0000-0000-000000000001"));
    a.put("when", Instant.ofEpochMilli(1_700_000_000_123L));
    a.put("day", LocalDate.of(2026, 2, 28));
    a.put("uri", URI.create("HTTP://Example.COM/a%20b"));
    a.put("locale", Locale.CANADA_FRENCH);
    a.put("level", ValueTypes.Level.HIGH);
    a.put("cookie", "an attribute named like the cookie");
    a.put("pgsession", 1);
    a.put("~x", new ArrayList<>(List.of("escaped")));
    a.put("", "empty name");
    List<Object> nested = new ArrayList<>();
    nested.add(1);
    nested.add(1L);
    nested.add(null);
    nested.add(new ArrayList<>(List.of(new ArrayList<>(List.of(2.0, 'c')))));
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("z", null);
    inner.put("a", new ArrayList<>(List.of(ValueTypes.Level.LOW, new BigDecimal("1E+3"))));
    inner.put("ключ", new LinkedHashMap<>(Map.of("k", 3L)));
    nested.add(inner);
    a.put("nested", nested);
    Map<String, Object> prefs = new LinkedHashMap<>();
    prefs.put("theme", "dark");
    prefs.put("empty", new LinkedHashMap<>());
    prefs.put("list", new ArrayList<>());
    a.put("prefs", prefs);
    return a;
  }

  /** Changes every list and map of a record's values in place, at every depth. */
  @SuppressWarnings("unchecked")
  private static void scribble(Object value, String mark) {
    if (value instanceof ArrayList<?> list) {
      for (Object element : List.copyOf(list.stream().filter(e -> e != null).toList())) {
        scribble(element, mark);
      }
      ((List<Object>) list).add(mark);
    } else if (value instanceof LinkedHashMap<?, ?> map) {
      for (Object element : new ArrayList<>(map.values())) {
        scribble(element, mark);
      }
      ((Map<Object, Object>) map).put(mark, mark);
    } else if (value instanceof Map<?, ?> attributes) {
      for (Object element : new ArrayList<>(attributes.values())) {
        scribble(element, mark);
      }
    }
  }

  private static org.assertj.core.data.Offset<Integer> within(int n) {
    return org.assertj.core.data.Offset.offset(n);
  }

  private static void rename(Connection c, String from, String to) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE session SET sid = ? WHERE sid = ?")) {
      ps.setString(1, to);
      ps.setString(2, from);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
  }

  private static String next() {
    return "read-cache-attack-" + IDS.incrementAndGet();
  }

  private static String written(Map<String, Object> attributes) {
    String sid = next();
    SessionRecord r = new SessionRecord(sid, System.currentTimeMillis(), 1800);
    r.attributes().putAll(attributes);
    writer.save(r);
    return sid;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> nestedList(SessionRecord r) {
    return (List<Object>) r.attributes().get("nested");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(SessionRecord r, String name) {
    return (Map<String, Object>) r.attributes().get(name);
  }
}
