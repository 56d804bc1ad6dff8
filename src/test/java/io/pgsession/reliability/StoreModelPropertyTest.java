package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random sequences of operations by two clients on two nodes, including a client saving a session
 * it read before the other client changed it, checked step by step against a map of maps.
 */
class StoreModelPropertyTest {
  private static final List<String> SIDS = List.of("m-a", "m-b", "m-c");
  private static final List<String> NAMES = List.of("x", "y", "z");
  private static final PropertyDatabase db =
      new PropertyDatabase("store_model_properties", PgSessionConfig.defaults(), 2);

  enum Kind {
    CREATE,
    SET,
    REMOVE,
    TOUCH,
    CHANGE_ID,
    DELETE,
    LOAD,
    SET_ON_STALE_READ
  }

  /** One step: which client, what, on which session, with which attribute and value. */
  record Op(int client, Kind kind, String sid, String other, String name, Object value) {}

  @Property(tries = 50)
  void theStoreAgreesWithASimpleModel(@ForAll("operations") List<Op> ops) {
    SIDS.forEach(db.node(0)::delete);
    Map<String, Map<String, Object>> model = new HashMap<>();

    for (Op op : ops) {
      apply(op, model);
      for (String sid : SIDS) {
        assertThat(attributes(db.node(op.client()).load(sid)))
            .as("%s after %s", sid, op)
            .isEqualTo(model.get(sid));
      }
    }
  }

  @Provide
  Arbitrary<List<Op>> operations() {
    Arbitrary<Object> values =
        Arbitraries.oneOf(
            Arbitraries.integers().between(0, 3).map(i -> (Object) i),
            Arbitraries.longs().between(0, 3).map(l -> (Object) l),
            Arbitraries.of("v", "w", "\u00e9\ud83d\ude00").map(s -> (Object) s));
    return Combinators.combine(
            Arbitraries.integers().between(0, 1),
            Arbitraries.of(Kind.class),
            Arbitraries.of(SIDS),
            Arbitraries.of(SIDS),
            Arbitraries.of(NAMES),
            values)
        .as(Op::new)
        .list()
        .ofMinSize(1)
        .ofMaxSize(25);
  }

  private static void apply(Op op, Map<String, Map<String, Object>> model) {
    PgSessionStore store = db.node(op.client());
    PgSessionStore other = db.node(1 - op.client());
    switch (op.kind()) {
      case CREATE -> {
        store.save(new SessionRecord(op.sid(), System.currentTimeMillis(), 600));
        model.put(op.sid(), new LinkedHashMap<>());
      }
      case SET -> change(store, op, model, r -> r.attributes().put(op.name(), op.value()));
      case REMOVE -> change(store, op, model, r -> r.attributes().remove(op.name()));
      case TOUCH -> {
        boolean touched = store.touch(op.sid(), System.currentTimeMillis() + 60_000);
        assertThat(touched).as("touch %s", op.sid()).isEqualTo(model.containsKey(op.sid()));
      }
      case CHANGE_ID -> changeId(store, op, model);
      case DELETE -> {
        boolean deleted = store.delete(op.sid());
        assertThat(deleted).as("delete %s", op.sid()).isEqualTo(model.remove(op.sid()) != null);
      }
      case LOAD -> {
        // checked after every step
      }
      case SET_ON_STALE_READ -> setOnStaleRead(store, other, op, model);
    }
  }

  /** Loads, changes and saves through one client; the model changes alike if the session exists. */
  private static void change(
      PgSessionStore store,
      Op op,
      Map<String, Map<String, Object>> model,
      java.util.function.Consumer<SessionRecord> edit) {
    SessionRecord record = store.load(op.sid());
    assertThat(record == null).isEqualTo(!model.containsKey(op.sid()));
    if (record != null) {
      edit.accept(record);
      store.save(record);
      model.put(op.sid(), new LinkedHashMap<>(record.attributes()));
    }
  }

  /**
   * This client reads, the other client sets {@code name} to a value of its own and saves, then
   * this client sets {@code name} (or, when the ops name it so, the other's attribute) and saves:
   * both changes must survive, this client's winning on the same attribute if it changed it.
   */
  private static void setOnStaleRead(
      PgSessionStore mine, PgSessionStore theirs, Op op, Map<String, Map<String, Object>> model) {
    SessionRecord stale = mine.load(op.sid());
    SessionRecord fresh = theirs.load(op.sid());
    if (stale == null) {
      assertThat(model).doesNotContainKey(op.sid());
      return;
    }
    String theirName = NAMES.get((NAMES.indexOf(op.name()) + op.other().length()) % NAMES.size());
    Object read = stale.attributes().get(op.name());
    fresh.attributes().put(theirName, "theirs");
    theirs.save(fresh);
    stale.attributes().put(op.name(), op.value());
    mine.save(stale);

    Map<String, Object> expected = model.get(op.sid());
    expected.put(theirName, "theirs");
    if (!Objects.equals(read, op.value()) || !theirName.equals(op.name())) {
      expected.put(op.name(), op.value());
    }
  }

  private static void changeId(
      PgSessionStore store, Op op, Map<String, Map<String, Object>> model) {
    boolean taken = model.containsKey(op.other()) && !op.other().equals(op.sid());
    boolean changed;
    try {
      changed = store.changeId(op.sid(), op.other());
    } catch (PgSessionException e) {
      assertThat(taken).as("changeId failed although %s is free: %s", op.other(), e).isTrue();
      return;
    }
    assertThat(taken && changed).as("changeId onto the taken id %s", op.other()).isFalse();
    assertThat(changed).isEqualTo(model.containsKey(op.sid()));
    if (changed) {
      model.put(op.other(), model.remove(op.sid()));
    }
  }

  private static Map<String, Object> attributes(SessionRecord record) {
    return record == null ? null : new LinkedHashMap<>(record.attributes());
  }
}
