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
  /** A request changes nothing but comes after the touch window, so the expiry must move. */
  TOUCH_ONLY("touch-only") {
    @Override
    <S> void run(StoreDriver<S> store, Worker w) throws Exception {
      long now = w.later();
      S s = open(store, w.pick(), now);
      store.get(s, "visits");
      store.finish(s, now);
    }
  },
  /** A request invalidates its session. */
  INVALIDATE("invalidate") {
    @Override
    <S> void run(StoreDriver<S> store, Worker w) throws Exception {
      String id = w.doomed.poll();
      if (id == null) {
        throw new IllegalStateException("no session left to invalidate");
      }
      store.invalidate(open(store, id, System.currentTimeMillis()));
    }

    @Override
    <S> void warmUp(StoreDriver<S> store, Worker w) throws Exception {
      w.doomed.add(store.create(w.newId(), System.currentTimeMillis(), w.attributes));
      long start = System.nanoTime();
      run(store, w);
      w.record(System.nanoTime() - start);
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

  final String label;

  Workload(String label) {
    this.label = label;
  }

  abstract <S> void run(StoreDriver<S> store, Worker w) throws Exception;

  /** One operation of the warm-up; timed only where the measurement needs an estimate. */
  <S> void warmUp(StoreDriver<S> store, Worker w) throws Exception {
    run(store, w);
  }

  private static <S> S open(StoreDriver<S> store, String id, long now) throws Exception {
    S s = store.open(id, now);
    if (s == null) {
      throw new IllegalStateException(store.name() + " lost session " + id);
    }
    return s;
  }
}
