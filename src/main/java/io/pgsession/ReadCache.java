package io.pgsession;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Sessions this store has read or written, each under the {@code xmin} of that row version. A later
 * read still asks the database, but passes that {@code xmin}: while the row is the same version,
 * the server answers without the document and the record is made again from the template, without
 * parsing. Any write to the row (this node's, another node's, a Node application's, a touch) gives
 * it a new {@code xmin}, and the document comes again.
 *
 * <p>Bounded by an estimate of the memory its templates take, in two generations of up to half the
 * capacity each. New entries go to the young one; when it is full, the old one is dropped whole and
 * the young one takes its place. An entry used from the old generation moves to the young one, so
 * sessions in use stay while those left alone go, and making room costs nothing per entry.
 * Thread-safe.
 */
final class ReadCache {
  /** A template with the row version it was read from, and what it is reckoned to weigh. */
  record Entry(String stamp, SessionDocument.Template template, long weight) {}

  /**
   * One generation's entries and their reckoned weight. An entry's weight is counted before it is
   * added, and only if the total stays within the generation's share, so that threads adding at
   * once cannot all take the last room.
   */
  private static final class Generation {
    final ConcurrentHashMap<String, Entry> entries;
    final AtomicLong weight = new AtomicLong();

    /**
     * Sized for {@code expected} entries, so that filling it does not grow its table step by step.
     */
    Generation(int expected) {
      entries = new ConcurrentHashMap<>(Math.max(16, expected));
    }

    boolean reserve(long w, long limit) {
      if (weight.addAndGet(w) <= limit) {
        return true;
      }
      weight.addAndGet(-w);
      return false;
    }

    /** Adds an entry whose weight was reserved. */
    void add(String sid, Entry e) {
      Entry old = entries.put(sid, e);
      if (old != null) {
        weight.addAndGet(-old.weight());
      }
    }

    /** Adds an entry whose weight was reserved, unless the session has one here already. */
    void addIfAbsent(String sid, Entry e) {
      if (entries.putIfAbsent(sid, e) != null) {
        weight.addAndGet(-e.weight());
      }
    }

    void remove(String sid) {
      Entry old = entries.remove(sid);
      if (old != null) {
        weight.addAndGet(-old.weight());
      }
    }
  }

  private volatile Generation young = new Generation(0);
  private volatile Generation old = new Generation(0);
  private final LongAdder hits = new LongAdder();
  private final long capacity;

  ReadCache(long capacity) {
    this.capacity = capacity;
  }

  @Nullable Entry get(String sid) {
    Entry e = young.entries.get(sid);
    return e != null ? e : old.entries.get(sid);
  }

  /**
   * Keeps a template under the row version it was read from or written as, in place of what was
   * kept of the session before; {@code null} (a session that cannot be kept) only drops that. A
   * template over an eighth of the capacity is not kept, so that one large session does not push
   * out many small ones.
   */
  void put(String sid, String stamp, SessionDocument.@Nullable Template template) {
    long w = template == null ? Long.MAX_VALUE : template.footprint();
    if (w > capacity / 8) {
      remove(sid);
      return;
    }
    old.remove(sid);
    roomFor(w).add(sid, new Entry(stamp, template, w));
  }

  /**
   * Counts a read answered from {@code e}, and moves {@code e} to the young generation if it was
   * found in the old one.
   */
  void hit(String sid, Entry e) {
    hits.increment();
    Generation g = young;
    if (!g.entries.containsKey(sid) && old.entries.get(sid) == e) {
      roomFor(e.weight()).addIfAbsent(sid, e);
    }
  }

  /**
   * Files the template kept under version {@code from} under {@code to}, a version that differs
   * from it only in {@code expire} (a touch), unless another version was filed meanwhile.
   */
  void moved(String sid, @Nullable String from, String to) {
    for (Generation g : new Generation[] {young, old}) {
      Entry e = g.entries.get(sid);
      if (e != null && e.stamp().equals(from)) {
        g.entries.replace(sid, e, new Entry(to, e.template(), e.weight()));
      }
    }
  }

  void remove(String sid) {
    young.remove(sid);
    old.remove(sid);
  }

  /** How many reads were answered from a template. */
  long hits() {
    return hits.sum();
  }

  /** The reckoned weight of the entries kept, in both generations. */
  long weight() {
    return young.weight.get() + old.weight.get();
  }

  /** The weight of the entries kept, added up entry by entry: what {@link #weight} must equal. */
  long recount() {
    long sum = 0;
    for (Generation g : new Generation[] {young, old}) {
      for (Entry e : g.entries.values()) {
        sum += e.weight();
      }
    }
    return sum;
  }

  /** How many entries are kept; a session in both generations counts twice. */
  int size() {
    return young.entries.size() + old.entries.size();
  }

  /**
   * The young generation, with {@code w} reserved in it; when {@code w} more would take it over
   * half the capacity, it becomes the old generation first (the old one is dropped).
   */
  private Generation roomFor(long w) {
    while (true) {
      Generation g = young;
      if (g.reserve(w, capacity / 2)) {
        return g;
      }
      synchronized (this) {
        if (young == g) {
          old = g;
          // The next generation will likely hold about as many entries as this one.
          young = new Generation(g.entries.size());
        }
      }
    }
  }
}
