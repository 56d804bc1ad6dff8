package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attacks on the snapshots that let a save keep an unchanged attribute's stored JSON: documents and
 * interleavings in which the snapshot could stand for something else than the stored JSON, so that
 * a change the request made would be taken for no change.
 */
class SnapshotBreakTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final String META = "\"pgsession\":{\"maxInactive\":3600,\"context\":\"/\"}";
  private static final AtomicInteger IDS = new AtomicInteger();
  private static PgSessionStore store;

  @BeforeAll
  static void createStore() {
    store =
        new PgSessionStore(
            pg.dataSource(), PgSessionConfig.defaults(), SnapshotBreakTest.class.getClassLoader());
    store.ensureTable();
  }

  /**
   * A document written by another program may name one attribute twice ({@code json} keeps repeated
   * keys), either literally or as {@code x} and its escaped spelling {@code ~x}; the last one is
   * the value. A value set by the request equal to an earlier, overridden one is still a change.
   */
  @ParameterizedTest
  @ValueSource(strings = {"x", "~x"})
  void aValueEqualToAnOverriddenRepeatedKeyIsStillWritten(String firstKey) {
    String sid =
        foreignRow(
            "{"
                + META
                + ",\""
                + firstKey
                + "\":\"a\",\"x\":{\"@t\":\"Date\",\"v\":\"1970-01-01T00:00:01Z\"}}");
    SessionRecord record = store.load(sid);
    assertThat(record.attributes().get("x")).isInstanceOf(java.util.Date.class);

    record.attributes().put("x", "a");

    assertThat(store.save(record)).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes().get("x")).isEqualTo("a");
  }

  /**
   * Two requests use one session on one node (Jetty shares the session between them, and writes it
   * when the first one commits its response). A change the second one makes while the first one's
   * save runs must still be written by the second one's own save: the snapshot must not stand for a
   * newer state than the JSON that was written. The change lands at a random moment of the save in
   * each round; a round that loses it fails.
   */
  @Test
  void aChangeMadeWhileAnotherRequestSavesIsWrittenByTheNextSave() throws Exception {
    List<Object> big = new ArrayList<>(Collections.nCopies(200_000, 7));
    SessionRecord record =
        new SessionRecord("break-" + IDS.incrementAndGet(), System.currentTimeMillis(), 3600);
    record.attributes().put("big", big);
    store.save(record);
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      for (int round = 1; round <= 20; round++) {
        int marker = -round;
        // The other request's own change, so that its save encodes the list.
        big.set(1, round);
        CountDownLatch saving = new CountDownLatch(1);
        Future<SaveOutcome> otherSave =
            other.submit(
                () -> {
                  saving.countDown();
                  return store.save(record);
                });
        assertThat(saving.await(10, TimeUnit.SECONDS)).isTrue();
        spinMicros(ThreadLocalRandom.current().nextInt(3_000));

        big.set(0, marker);
        otherSave.get(30, TimeUnit.SECONDS);
        store.save(record);

        @SuppressWarnings("unchecked")
        List<Object> stored = (List<Object>) store.load(record.sid()).attributes().get("big");
        assertThat(stored.get(0)).as("element 0 after round %d", round).isEqualTo(marker);
      }
    } finally {
      other.shutdownNow();
    }
  }

  /** Lets the other thread run on for a while, to vary where in its save the change lands. */
  private static void spinMicros(int micros) {
    long end = System.nanoTime() + micros * 1_000L;
    while (System.nanoTime() < end) {
      Thread.onSpinWait();
    }
  }

  @Test
  void aSortedSetOfElementsThatCannotBeComparedReadsAsNoSession() {
    String sid = foreignRow("{" + META + ",\"x\":{\"@t\":\"java.util.TreeSet\",\"v\":[[1],[2]]}}");

    assertThat(store.load(sid)).isNull();
  }

  private static String foreignRow(String document) {
    String sid = "break-" + IDS.incrementAndGet();
    Sql.update(
        pg.dataSource(),
        "INSERT INTO session (sid, sess, expire) VALUES (?, ?::json, now() + interval '1 hour')",
        sid,
        document);
    return sid;
  }
}
