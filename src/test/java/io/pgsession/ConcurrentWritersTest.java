package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.testing.PostgresExtension;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two nodes (two stores on two pools) change one session at the same time: each keeps the other's
 * changes to other attributes.
 */
class ConcurrentWritersTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final AtomicInteger IDS = new AtomicInteger();
  private static PgSessionStore nodeA;
  private static PgSessionStore nodeB;

  @BeforeAll
  static void createNodes() {
    ClassLoader loader = ConcurrentWritersTest.class.getClassLoader();
    nodeA = new PgSessionStore(pg.newDataSource(), PgSessionConfig.defaults(), loader);
    nodeB = new PgSessionStore(pg.newDataSource(), PgSessionConfig.defaults(), loader);
  }

  @Test
  void changesToDifferentAttributesAreMerged() {
    String sid = stored(Map.of("a", 1, "b", 1));
    SessionRecord onA = nodeA.load(sid);
    SessionRecord onB = nodeB.load(sid);
    onA.attributes().put("a", 2);
    onB.attributes().put("b", 2);

    SaveOutcome first = nodeA.save(onA);
    SaveOutcome second = nodeB.save(onB);

    assertThat(first).isEqualTo(SaveOutcome.UPDATED);
    assertThat(second).isEqualTo(SaveOutcome.MERGED);
    assertThat(nodeA.load(sid).attributes())
        .containsExactlyInAnyOrderEntriesOf(Map.of("a", 2, "b", 2));
    assertThat(onB.attributes()).containsEntry("a", 2).containsEntry("b", 2);
  }

  @Test
  void aWriteThatKeepsTheDocumentVersionIsStillNotLost() throws Exception {
    String sid = stored(Map.of("a", 1, "b", "old"));
    SessionRecord onA = nodeA.load(sid);
    // Another writer (express-session writes the whole document back, pgsession's version
    // counter included) changes b and leaves the version as it was.
    try (var c = pg.dataSource().getConnection();
        var ps =
            c.prepareStatement(
                "UPDATE session SET sess = replace(sess::text, '\"old\"', '\"node\"')::json"
                    + " WHERE sid = ?")) {
      ps.setString(1, sid);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    onA.attributes().put("a", 2);

    SaveOutcome outcome = nodeA.save(onA);

    assertThat(outcome).isEqualTo(SaveOutcome.MERGED);
    assertThat(nodeB.load(sid).attributes())
        .containsExactlyInAnyOrderEntriesOf(Map.of("a", 2, "b", "node"));
  }

  @Test
  void aTouchByAnotherNodeDoesNotHideItsLaterWrite() {
    String sid = stored(Map.of("a", 1, "b", 1));
    SessionRecord onA = nodeA.load(sid);
    SessionRecord onB = nodeB.load(sid);
    onB.attributes().put("b", 2);
    nodeB.save(onB);
    onA.expiry(onA.expiry() + 3_600_000L);

    SaveOutcome touched = nodeA.save(onA);
    onA.attributes().put("a", 2);
    SaveOutcome written = nodeA.save(onA);

    assertThat(touched).isEqualTo(SaveOutcome.TOUCHED);
    assertThat(written).isEqualTo(SaveOutcome.MERGED);
    assertThat(nodeB.load(sid).attributes())
        .containsExactlyInAnyOrderEntriesOf(Map.of("a", 2, "b", 2));
  }

  @Test
  void removalOnOneNodeAndSetOnTheOtherBothSurvive() {
    String sid = stored(Map.of("keep", 1, "drop", 1));
    SessionRecord onA = nodeA.load(sid);
    SessionRecord onB = nodeB.load(sid);
    onA.attributes().remove("drop");
    onB.attributes().put("added", "b");

    nodeA.save(onA);
    SaveOutcome second = nodeB.save(onB);

    assertThat(second).isEqualTo(SaveOutcome.MERGED);
    assertThat(nodeB.load(sid).attributes())
        .containsExactlyInAnyOrderEntriesOf(Map.of("keep", 1, "added", "b"));
  }

  @Test
  void setOnOneNodeAndRemovalOnTheOtherBothSurvive() {
    String sid = stored(Map.of("keep", 1, "drop", 1));
    SessionRecord onA = nodeA.load(sid);
    SessionRecord onB = nodeB.load(sid);
    onA.attributes().put("added", "a");
    onB.attributes().remove("drop");

    nodeA.save(onA);
    nodeB.save(onB);

    assertThat(nodeA.load(sid).attributes())
        .containsExactlyInAnyOrderEntriesOf(Map.of("keep", 1, "added", "a"));
  }

  @Test
  void sameAttributeChangedOnBothNodesKeepsTheLaterWrite() {
    String sid = stored(Map.of("a", 1));
    SessionRecord onA = nodeA.load(sid);
    SessionRecord onB = nodeB.load(sid);
    onA.attributes().put("a", 2);
    onB.attributes().put("a", 3);

    nodeA.save(onA);
    nodeB.save(onB);

    assertThat(nodeA.load(sid).attributes()).containsEntry("a", 3);
  }

  @Test
  void sessionDeletedOnOneNodeIsNotRevivedByTheOther() {
    String sid = stored(Map.of("a", 1));
    SessionRecord onB = nodeB.load(sid);
    onB.attributes().put("a", 2);
    nodeA.delete(sid);

    SaveOutcome outcome = nodeB.save(onB);

    assertThat(outcome).isEqualTo(SaveOutcome.GONE);
    assertThat(nodeA.load(sid)).isNull();
  }

  private static String stored(Map<String, Object> attributes) {
    SessionRecord record =
        new SessionRecord("merge-" + IDS.incrementAndGet(), System.currentTimeMillis(), 1800);
    record.attributes().putAll(attributes);
    nodeA.save(record);
    return record.sid();
  }
}
