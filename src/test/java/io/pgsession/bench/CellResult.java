package io.pgsession.bench;

import org.jspecify.annotations.Nullable;

/**
 * The figures of one benchmark cell: one store, workload, session shape and thread count. {@code
 * statements}, {@code clientCpuNanos} and {@code machineCpuNanos} (the busy time of every core, the
 * database's included; -1 when unknown) cover the measured time only.
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
    long machineCpuNanos,
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

  /**
   * Busy CPU time of the whole machine per operation (client, driver, database, kernel), or -1 when
   * the platform does not tell.
   */
  double machineCpuMicros() {
    return operations == 0 || machineCpuNanos < 0 ? -1 : machineCpuNanos / 1000.0 / operations;
  }

  boolean failed() {
    return error != null;
  }

  boolean sameCellAs(CellResult other) {
    return shape == other.shape && workload == other.workload && threads == other.threads;
  }
}
