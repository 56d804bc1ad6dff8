package io.pgsession.bench;

import static java.util.stream.Collectors.joining;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The results of one run as a text table, Markdown and CSV, with the targets checked. */
final class Report {
  private static final String[] HEADER = {
    "shape",
    "workload",
    "threads",
    "store",
    "ops/s",
    "p50 µs",
    "p99 µs",
    "stmts/op",
    "cpu µs/op",
    "alloc B/op",
    "machine µs/op",
    "× floor"
  };

  private final List<CellResult> results;
  private final List<String> notes;

  Report(List<CellResult> results, List<String> notes) {
    this.results = List.copyOf(results);
    this.notes = List.copyOf(notes);
  }

  List<CellResult> results() {
    return results;
  }

  /**
   * How many times {@code other}'s throughput {@code r} reached in the same cell: the median of the
   * two stores' ratios round by round when both ran the same rounds (each round's stores ran within
   * seconds of each other, so a slow stretch of the machine weighs on both sides of a ratio), else
   * the ratio of the reported figures.
   */
  static double ratio(CellResult r, CellResult other) {
    List<Double> mine = r.roundRates();
    List<Double> theirs = other.roundRates();
    if (mine.isEmpty() || mine.size() != theirs.size()) {
      return r.opsPerSecond() / other.opsPerSecond();
    }
    double[] ratios = new double[mine.size()];
    for (int i = 0; i < ratios.length; i++) {
      ratios[i] = mine.get(i) / theirs.get(i);
    }
    Arrays.sort(ratios);
    int middle = ratios.length / 2;
    return ratios.length % 2 == 1 ? ratios[middle] : (ratios[middle - 1] + ratios[middle]) / 2;
  }

  /** The result of the floor for the same cell, if it ran. */
  Optional<CellResult> floorOf(CellResult r) {
    return results.stream()
        .filter(f -> f.store().equals(Stores.FLOOR) && f.sameCellAs(r) && !f.failed())
        .findFirst();
  }

  Optional<CellResult> find(String store, SessionShape shape, Workload workload, int threads) {
    return results.stream()
        .filter(r -> r.store().equals(store))
        .filter(r -> r.shape() == shape && r.workload() == workload && r.threads() == threads)
        .findFirst();
  }

  private List<String[]> rows() {
    List<String[]> rows = new ArrayList<>();
    for (CellResult r : results) {
      String ratio = floorOf(r).map(f -> fmt("%.2f", ratio(r, f))).orElse("");
      rows.add(
          new String[] {
            r.shape().name().toLowerCase(Locale.ROOT),
            r.workload().label,
            String.valueOf(r.threads()),
            r.store(),
            r.failed() ? "FAILED: " + r.error() : fmt("%.0f", r.opsPerSecond()),
            fmt("%.0f", r.p50Nanos() / 1000.0),
            fmt("%.0f", r.p99Nanos() / 1000.0),
            fmt("%.2f", r.statementsPerOperation()),
            fmt("%.0f", r.clientCpuMicros()),
            r.allocatedBytesPerOperation() < 0 ? "" : fmt("%.0f", r.allocatedBytesPerOperation()),
            r.machineCpuMicros() < 0 ? "" : fmt("%.0f", r.machineCpuMicros()),
            ratio
          });
    }
    return rows;
  }

  /** A fixed-width table for the console. */
  String table() {
    List<String[]> rows = rows();
    int[] width = new int[HEADER.length];
    for (String[] row : concat(HEADER, rows)) {
      for (int i = 0; i < row.length; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] row : concat(HEADER, rows)) {
      for (int i = 0; i < row.length; i++) {
        boolean numeric = i >= 4;
        String cell = numeric ? pad(row[i], width[i], true) : pad(row[i], width[i], false);
        sb.append(i == 0 ? "" : "  ").append(cell);
      }
      sb.append('\n');
    }
    return sb.append('\n').append(String.join("\n", targets())).append('\n').toString();
  }

  String markdown() {
    StringBuilder sb = new StringBuilder();
    for (String note : notes) {
      sb.append(note).append("  \n");
    }
    sb.append('\n').append("| ").append(String.join(" | ", HEADER)).append(" |\n");
    sb.append("|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (String[] row : rows()) {
      sb.append("| ").append(String.join(" | ", row)).append(" |\n");
    }
    sb.append("\nTargets:\n\n");
    for (String target : targets()) {
      sb.append("- ").append(target).append('\n');
    }
    return sb.toString();
  }

  String csv() {
    StringBuilder sb =
        new StringBuilder(
            "shape,workload,threads,store,operations,seconds,ops_per_s,p50_us,p99_us,"
                + "statements_per_op,client_cpu_us_per_op,allocated_bytes_per_op,machine_cpu_us_per_op,"
                + "ratio_to_floor,round_ops_per_s,error\n");
    for (CellResult r : results) {
      String ratio = floorOf(r).map(f -> fmt("%.3f", ratio(r, f))).orElse("");
      sb.append(
          String.join(
              ",",
              r.shape().name().toLowerCase(Locale.ROOT),
              r.workload().label,
              String.valueOf(r.threads()),
              quote(r.store()),
              String.valueOf(r.operations()),
              fmt("%.3f", r.seconds()),
              fmt("%.1f", r.opsPerSecond()),
              fmt("%.1f", r.p50Nanos() / 1000.0),
              fmt("%.1f", r.p99Nanos() / 1000.0),
              fmt("%.3f", r.statementsPerOperation()),
              fmt("%.1f", r.clientCpuMicros()),
              r.allocatedBytesPerOperation() < 0 ? "" : fmt("%.0f", r.allocatedBytesPerOperation()),
              r.machineCpuMicros() < 0 ? "" : fmt("%.1f", r.machineCpuMicros()),
              ratio,
              r.roundRates().stream().map(x -> fmt("%.1f", x)).collect(joining(" ")),
              r.error() == null ? "" : quote(r.error())));
      sb.append('\n');
    }
    return sb.toString();
  }

  /** Writes session-stores.md and session-stores.csv into {@code dir}. */
  List<Path> write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path md = Files.writeString(dir.resolve("session-stores.md"), markdown());
    Path csv = Files.writeString(dir.resolve("session-stores.csv"), csv());
    return List.of(md, csv);
  }

  /** The targets, each with the measured figure. */
  List<String> targets() {
    List<String> lines = new ArrayList<>();
    String pg = Stores.pgsessionName(results);
    ratioToFloor(lines, pg, Workload.READ_ONLY, "load (read-only request)");
    ratioToFloor(lines, pg, Workload.CHANGE_ONE, "save (change one attribute)");
    ratioToFloor(lines, pg, Workload.CREATE, "save (create)");
    for (SessionShape shape : SessionShape.values()) {
      for (int threads : List.of(1, 8)) {
        for (String other : List.of(Stores.JETTY_JDBC, Stores.SPRING)) {
          Optional<CellResult> mine = find(pg, shape, Workload.MIXED, threads);
          Optional<CellResult> theirs = find(other, shape, Workload.MIXED, threads);
          if (mine.isPresent() && theirs.isPresent()) {
            double ratio = ratio(mine.get(), theirs.get());
            lines.add(
                verdict(ratio >= 2.0)
                    + fmt(
                        " mixed, %s, %d thread(s): %s/%s = %.2f (target ≥ 2)",
                        shape.name().toLowerCase(Locale.ROOT), threads, pg, other, ratio));
          }
        }
      }
    }
    results.stream()
        .filter(r -> r.store().equals(pg) && r.workload() == Workload.READ_ONLY)
        .forEach(
            r ->
                lines.add(
                    verdict(Math.abs(r.statementsPerOperation() - 1.0) < 1e-9)
                        + fmt(
                            " read-only request, %s, %d thread(s): %.2f statements (target 1)",
                            r.shape().name().toLowerCase(Locale.ROOT),
                            r.threads(),
                            r.statementsPerOperation())));
    return lines;
  }

  private void ratioToFloor(List<String> lines, String pg, Workload workload, String what) {
    find(pg, SessionShape.SMALL, workload, 8)
        .ifPresent(
            r ->
                floorOf(r)
                    .ifPresent(
                        f -> {
                          double ratio = ratio(r, f);
                          lines.add(
                              verdict(ratio >= 0.9)
                                  + fmt(
                                      " %s, small, 8 threads: %.2f of the floor (target ≥ 0.9)",
                                      what, ratio));
                        }));
  }

  private static String verdict(boolean met) {
    return met ? "[met]   " : "[missed]";
  }

  private static List<String[]> concat(String[] header, List<String[]> rows) {
    List<String[]> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    return all;
  }

  private static String pad(String s, int width, boolean right) {
    String space = " ".repeat(Math.max(0, width - s.length()));
    return right ? space + s : s + space;
  }

  private static String quote(String s) {
    return "\"" + s.replace("\"", "\"\"") + "\"";
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
