package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A save that finds every value equal to its snapshot keeps the maps it read. These hold that it
 * only does so when the loop that encodes each value would have given the same maps.
 */
class UnchangedSaveAttackTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static PgSessionStore store;

  @BeforeAll
  static void createStore() {
    store =
        new PgSessionStore(
            pg.dataSource(),
            PgSessionConfig.defaults(),
            UnchangedSaveAttackTest.class.getClassLoader());
  }

  @Test
  void anAttributeRemovedAndSetAgainToAnEqualValueWritesNothing() {
    String sid = stored("n", 1L, "m", "x");
    SessionRecord record = store.load(sid);
    record.attributes().remove("n");
    record.attributes().put("n", 1L);

    SaveOutcome outcome = store.save(record);

    assertThat(outcome).isEqualTo(SaveOutcome.UNCHANGED);
    assertThat(store.load(sid).attributes()).containsEntry("n", 1L).containsEntry("m", "x");
  }

  @Test
  void anAttributeRenamedToANewNameWithTheSameValueIsWritten() {
    String sid = stored("a", 1L, "b", 2L);
    SessionRecord record = store.load(sid);
    record.attributes().remove("a");
    record.attributes().put("c", 1L);

    SaveOutcome outcome = store.save(record);

    assertThat(outcome).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes()).containsOnlyKeys("b", "c");
  }

  @Test
  void twoValuesSwappedBetweenTheirNamesAreWritten() {
    String sid = stored("a", 1L, "b", 2L);
    SessionRecord record = store.load(sid);
    record.attributes().put("a", 2L);
    record.attributes().put("b", 1L);

    SaveOutcome outcome = store.save(record);

    assertThat(outcome).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes()).containsEntry("a", 2L).containsEntry("b", 1L);
  }

  @Test
  void aValueReplacedByAnEqualOneOfAnotherClassIsWrittenWithItsClass() {
    String sid = stored("n", 1L, "m", "x");
    SessionRecord record = store.load(sid);
    record.attributes().put("n", 1);

    SaveOutcome outcome = store.save(record);

    assertThat(outcome).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes().get("n")).isEqualTo(1);
  }

  @Test
  void aNullValueSavedUnchangedWritesNothingAndAValueReplacingItIsWritten() {
    SessionRecord first = new SessionRecord("null-" + IDS.incrementAndGet(), now(), 1800);
    first.attributes().put("maybe", null);
    first.attributes().put("m", "x");
    store.save(first);
    SessionRecord record = store.load(first.sid());

    SaveOutcome unchanged = store.save(record);
    record.attributes().put("maybe", "now");
    SaveOutcome changed = store.save(record);

    assertThat(unchanged).isEqualTo(SaveOutcome.UNCHANGED);
    assertThat(changed).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(first.sid()).attributes()).containsEntry("maybe", "now");
  }

  @Test
  void afterAMergeAnUnchangedSaveWritesNothingAndALaterChangeIsWrittenOverTheMerge() {
    String sid = stored("mine", 1L, "theirs", 1L);
    SessionRecord mine = store.load(sid);
    SessionRecord theirs = store.load(sid);
    theirs.attributes().put("theirs", 2L);
    store.save(theirs);
    mine.attributes().put("mine", 2L);
    assertThat(store.save(mine)).isEqualTo(SaveOutcome.MERGED);

    SaveOutcome unchanged = store.save(mine);
    mine.attributes().put("theirs", 3L);
    SaveOutcome changed = store.save(mine);

    assertThat(unchanged).isEqualTo(SaveOutcome.UNCHANGED);
    assertThat(changed).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes()).containsEntry("mine", 2L).containsEntry("theirs", 3L);
  }

  @Test
  void aListChangedInPlaceAfterAnUnchangedSaveIsWritten() {
    String sid = stored("list", new ArrayList<>(List.of("a")), "m", "x");
    SessionRecord record = store.load(sid);
    assertThat(store.save(record)).isEqualTo(SaveOutcome.UNCHANGED);

    @SuppressWarnings("unchecked")
    List<Object> list = (List<Object>) record.attributes().get("list");
    list.add("b");
    SaveOutcome outcome = store.save(record);

    assertThat(outcome).isEqualTo(SaveOutcome.UPDATED);
    assertThat(store.load(sid).attributes().get("list")).isEqualTo(List.of("a", "b"));
  }

  private static String stored(String name, Object value, String other, Object otherValue) {
    SessionRecord r = new SessionRecord("s-" + IDS.incrementAndGet(), now(), 1800);
    r.attributes().put(name, value);
    r.attributes().put(other, otherValue);
    store.save(r);
    return r.sid();
  }

  private static long now() {
    return System.currentTimeMillis();
  }
}
