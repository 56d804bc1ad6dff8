package io.pgsession.bench;

import org.jspecify.annotations.Nullable;

/**
 * The figures of one benchmark cell: one store, workload, session shape and thread count. {@code
 * statements} and {@code clientCpuNanos} cover the measured operations only.
 */
record CellResult(
    String store,
    SessionShape shape,
    Workload workload,
    int threads,
    long operations,
    double seconds,
    long p50Nanos,
    long p99Nanos,
    long statements,
    long clientCpuNanos,
    @Nullable String error) {

  double opsPerSecond() {
    return seconds <= 0 ? 0 : operations / seconds;
  }

  double statementsPerOperation() {
    return operations == 0 ? 0 : (double) statements / operations;
  }

  /**
   * CPU time the benchmark threads spent per operation: the store's Java side, not the server's.
   */
  double clientCpuMicros() {
    return operations == 0 ? 0 : clientCpuNanos / 1000.0 / operations;
  }

  boolean failed() {
    return error != null;
  }

  boolean sameCellAs(CellResult other) {
    return shape == other.shape && workload == other.workload && threads == other.threads;
  }
}
