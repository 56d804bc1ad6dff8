package io.pgsession.bench;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The figures of one benchmark cell: one store, workload, session shape and thread count. {@code
 * statements}, {@code clientCpuNanos}, {@code allocatedBytes} (by the benchmark threads; -1 when
 * unknown) and {@code machineCpuNanos} (the busy time of every core, the database's included; -1
 * when unknown) cover the measured time only. {@code roundRates} are the operations per second of
 * every round of the cell, in the order they ran, when the figures are those of one of several
 * rounds.
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
    long allocatedBytes,
    long machineCpuNanos,
    @Nullable String error,
    List<Double> roundRates) {

  CellResult {
    roundRates = List.copyOf(roundRates);
  }

  /** These figures, as the reported round of a cell whose rounds ran at these rates. */
  CellResult withRoundRates(List<Double> rates) {
    return new CellResult(
        store,
        shape,
        workload,
        threads,
        operations,
        seconds,
        p50Nanos,
        p99Nanos,
        statements,
        clientCpuNanos,
        allocatedBytes,
        machineCpuNanos,
        error,
        rates);
  }

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

  /** Bytes the benchmark threads allocated per operation, or -1 when the JVM does not tell. */
  double allocatedBytesPerOperation() {
    return operations == 0 || allocatedBytes < 0 ? -1 : (double) allocatedBytes / operations;
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
