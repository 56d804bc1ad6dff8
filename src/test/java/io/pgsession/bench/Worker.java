package io.pgsession.bench;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One benchmark thread's state: the sessions it owns (no two threads touch the same session, as
 * concurrent requests for one session are rare in practice), its random source, and the latencies
 * it recorded. Confined to its thread.
 */
final class Worker {
  final int index;
  final List<String> sessions;

  /** Sessions made for workloads that use one up per operation. */
  final ArrayDeque<String> prepared = new ArrayDeque<>();

  final Map<String, Object> attributes;
  final SplittableRandom random;
  private long[] latencies = new long[1 << 14];
  private int recorded;
  private long cpuNanos;
  private long allocatedBytes;
  private long counter;

  Worker(int index, List<String> sessions, Map<String, Object> attributes) {
    this.index = index;
    this.sessions = new ArrayList<>(sessions);
    this.attributes = attributes;
    // Seeded afresh for every cell, so that no two cells make the same session ids.
    this.random = new SplittableRandom();
  }

  /** A random session of this worker's. */
  String pick() {
    return sessions.get(random.nextInt(sessions.size()));
  }

  /** A new session id, 32 hex digits like a container's. */
  String newId() {
    return hex16(random.nextLong()) + hex16(random.nextLong());
  }

  private static String hex16(long bits) {
    String hex = Long.toHexString(bits);
    return "0".repeat(16 - hex.length()) + hex;
  }

  /** The next prepared session; the cell stops before they run out. */
  String takePrepared() {
    String id = prepared.poll();
    if (id == null) {
      throw new IllegalStateException("no prepared session left");
    }
    return id;
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

  void addAllocated(long bytes) {
    allocatedBytes += bytes;
  }

  long allocatedBytes() {
    return allocatedBytes;
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
