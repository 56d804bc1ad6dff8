package io.pgsession.bench;

/**
 * What one benchmark operation does, as one request or one session creation. Each operation opens
 * and finishes its session through the {@link StoreDriver}, so every store pays for its own
 * loading, change tracking and end-of-request decision.
 */
enum Workload {
  /** A new session with the shape's attributes is created and saved. */
  CREATE("create") {
    @Override
    <S> void run(StoreDriver<S> store, Worker w) throws Exception {
      store.create(w.newId(), System.currentTimeMillis(), w.attributes);
    }
  },
  /** A request reads an attribute and changes nothing, inside the touch window. */
  READ_ONLY("read-only") {
    @Override
    <S> void run(StoreDriver<S> store, Worker w) throws Exception {
      long now = System.currentTimeMillis();
      S s = open(store, w.pick(), now);
      store.get(s, "visits");
      store.finish(s, now);
    }
  },
  /** A request changes one attribute. */
  CHANGE_ONE("change one") {
    @Override
    <S> void run(StoreDriver<S> store, Worker w) throws Exception {
      long now = System.currentTimeMillis();
      S s = open(store, w.pick(), now);
      store.set(s, "visits", w.nextValue());
      store.finish(s, now);
    }
  },
  /**
   * A request changes nothing but comes after the touch window, so the expiry must move: each one
   * uses a session last accessed {@link #TOUCH_AGE_MILLIS} ago, made for it before the clock runs.
   */
  TOUCH_ONLY("touch-only") {
    @Override
    <S> void run(StoreDriver<S> store, Worker w) throws Exception {
      long now = System.currentTimeMillis();
      S s = open(store, w.takePrepared(), now);
      store.get(s, "visits");
      store.finish(s, now);
    }

    @Override
    long preparedAge() {
      return TOUCH_AGE_MILLIS;
    }
  },
  /** A request invalidates its session. */
  INVALIDATE("invalidate") {
    @Override
    <S> void run(StoreDriver<S> store, Worker w) throws Exception {
      store.invalidate(open(store, w.takePrepared(), System.currentTimeMillis()));
    }

    @Override
    long preparedAge() {
      return 0;
    }
  },
  /** 80% read-only, 15% change one attribute, 2.5% create, 2.5% invalidate. */
  MIXED("mixed") {
    @Override
    <S> void run(StoreDriver<S> store, Worker w) throws Exception {
      int dice = w.random.nextInt(1000);
      if (dice < 800) {
        READ_ONLY.run(store, w);
      } else if (dice < 950) {
        CHANGE_ONE.run(store, w);
      } else if (dice < 975 || w.sessions.size() < 2) {
        w.sessions.add(store.create(w.newId(), System.currentTimeMillis(), w.attributes));
      } else {
        int i = w.random.nextInt(w.sessions.size());
        String id = w.sessions.get(i);
        w.sessions.set(i, w.sessions.get(w.sessions.size() - 1));
        w.sessions.remove(w.sessions.size() - 1);
        store.invalidate(open(store, id, System.currentTimeMillis()));
      }
    }
  };

  /**
   * How long before a touch-only request its session was last accessed: past the touch window of
   * every store (a tenth of {@link SessionStoreBenchmark#MAX_INACTIVE_SECONDS}), well before
   * expiry.
   */
  static final long TOUCH_AGE_MILLIS = SessionStoreBenchmark.MAX_INACTIVE_SECONDS * 1000L / 4;

  final String label;

  Workload(String label) {
    this.label = label;
  }

  abstract <S> void run(StoreDriver<S> store, Worker w) throws Exception;

  /**
   * For a workload that uses up one session per operation, how long ago (in milliseconds) the
   * sessions made for it were last accessed; negative for the workloads that use the shared ones.
   */
  long preparedAge() {
    return -1;
  }

  /** One operation of the warm-up, timed where the cell needs its rate to prepare sessions. */
  <S> void warmUp(StoreDriver<S> store, Worker w) throws Exception {
    if (preparedAge() < 0) {
      run(store, w);
      return;
    }
    w.prepared.add(
        store.create(w.newId(), System.currentTimeMillis() - preparedAge(), w.attributes));
    long start = System.nanoTime();
    run(store, w);
    w.record(System.nanoTime() - start);
  }

  private static <S> S open(StoreDriver<S> store, String id, long now) throws Exception {
    S s = store.open(id, now);
    if (s == null) {
      throw new IllegalStateException(store.name() + " lost session " + id);
    }
    return s;
  }
}
