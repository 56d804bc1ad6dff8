package io.pgsession;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Sessions this store has read, each under the {@code xmin} of the row version it was read from. A
 * later read still asks the database, but passes that {@code xmin}: while the row is the same
 * version, the server answers without the document and the record is made again from the template,
 * without parsing. Any write to the row (this node's, another node's, a Node application's, a
 * touch) gives it a new {@code xmin}, and the document comes again.
 *
 * <p>Bounded by an estimate of the memory its templates take; when full, it drops entries until a
 * quarter is free. Thread-safe.
 */
final class ReadCache {
  /** A template with the row version it was read from, and what it is reckoned to weigh. */
  record Entry(String stamp, SessionDocument.Template template, long weight) {}

  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final LongAdder weight = new LongAdder();
  private final LongAdder hits = new LongAdder();
  private final long capacity;

  ReadCache(long capacity) {
    this.capacity = capacity;
  }

  @Nullable Entry get(String sid) {
    return entries.get(sid);
  }

  /**
   * Keeps a template under the row version it was read from, in place of what was kept of the
   * session before; {@code null} (a session that cannot be kept) only drops that. A template over
   * an eighth of the capacity is not kept, so that one large session does not push out many small
   * ones.
   */
  void put(String sid, String stamp, SessionDocument.@Nullable Template template) {
    long w = template == null ? Long.MAX_VALUE : template.footprint();
    if (w > capacity / 8) {
      remove(sid);
      return;
    }
    Entry old = entries.put(sid, new Entry(stamp, template, w));
    weight.add(w - (old == null ? 0 : old.weight()));
    if (weight.sum() > capacity) {
      shrink();
    }
  }

  /**
   * Files the template read as version {@code from} under {@code to}, a version that differs from
   * it only in {@code expire} (a touch), unless another version was filed meanwhile.
   */
  void moved(String sid, @Nullable String from, String to) {
    Entry e = entries.get(sid);
    if (e != null && e.stamp().equals(from)) {
      entries.replace(sid, e, new Entry(to, e.template(), e.weight()));
    }
  }

  void remove(String sid) {
    Entry old = entries.remove(sid);
    if (old != null) {
      weight.add(-old.weight());
    }
  }

  void hit() {
    hits.increment();
  }

  /** How many reads were answered from a template. */
  long hits() {
    return hits.sum();
  }

  /** The reckoned weight of the entries kept. */
  long weight() {
    return weight.sum();
  }

  int size() {
    return entries.size();
  }

  private void shrink() {
    long target = capacity - capacity / 4;
    Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
    while (weight.sum() > target && it.hasNext()) {
      Map.Entry<String, Entry> e = it.next();
      if (entries.remove(e.getKey(), e.getValue())) {
        weight.add(-e.getValue().weight());
      }
    }
  }
}
