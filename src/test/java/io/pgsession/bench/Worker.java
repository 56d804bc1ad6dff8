package io.pgsession.bench;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One benchmark thread's state: the sessions it owns (no two threads touch the same session, as
 * concurrent requests for one session are rare in practice), its random source, and the latencies
 * it recorded. Confined to its thread.
 */
final class Worker {
  final int index;
  final List<String> sessions;
  final ArrayDeque<String> doomed = new ArrayDeque<>();
  final Map<String, Object> attributes;
  final SplittableRandom random;
  private final AtomicLong laterClock;
  private final long laterStep;
  private long[] latencies = new long[1 << 14];
  private int recorded;
  private long cpuNanos;
  private long counter;

  Worker(
      int index,
      List<String> sessions,
      Map<String, Object> attributes,
      AtomicLong laterClock,
      long laterStep) {
    this.index = index;
    this.sessions = new ArrayList<>(sessions);
    this.attributes = attributes;
    // Seeded afresh for every cell, so that no two cells make the same session ids.
    this.random = new SplittableRandom();
    this.laterClock = laterClock;
    this.laterStep = laterStep;
  }

  /** A random session of this worker's. */
  String pick() {
    return sessions.get(random.nextInt(sessions.size()));
  }

  /** A new session id, 32 hex digits like a container's. */
  String newId() {
    return String.format("%016x%016x", random.nextLong(), random.nextLong());
  }

  /**
   * A request time far enough past every earlier one that any store's touch window has passed: the
   * harness's clock for touch-only requests, moving ahead of the wall clock.
   */
  long later() {
    return laterClock.addAndGet(laterStep);
  }

  long nextValue() {
    return ++counter;
  }

  void record(long nanos) {
    if (recorded == latencies.length) {
      latencies = Arrays.copyOf(latencies, recorded * 2);
    }
    latencies[recorded++] = nanos;
  }

  void addCpu(long nanos) {
    cpuNanos += nanos;
  }

  long cpuNanos() {
    return cpuNanos;
  }

  int recorded() {
    return recorded;
  }

  long[] latencies() {
    return Arrays.copyOf(latencies, recorded);
  }

  void forgetLatencies() {
    recorded = 0;
    cpuNanos = 0;
  }
}
