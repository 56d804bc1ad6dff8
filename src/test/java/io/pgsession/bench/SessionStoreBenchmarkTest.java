package io.pgsession.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A few seconds of the benchmark, so that it keeps working: every store completes operations with
 * plausible statement counts. Speed is not asserted; the full run measures it.
 */
class SessionStoreBenchmarkTest {

  @Test
  void everyStoreCompletesEachWorkloadWithPlausibleStatementCounts() throws Exception {
    SessionStoreBenchmark.Settings settings =
        new SessionStoreBenchmark.Settings(
            Duration.ofMillis(200),
            Duration.ofMillis(400),
            List.of(2),
            List.of(SessionShape.SMALL),
            List.of(Workload.READ_ONLY, Workload.MIXED),
            List.of(),
            1,
            40,
            4,
            "",
            Path.of("target/benchmarks-smoke"));

    Report report = new SessionStoreBenchmark(settings).run();

    assertThat(report.results())
        .extracting(CellResult::store)
        .containsOnly(
            Stores.FLOOR,
            Stores.pgsessionName(report.results()),
            Stores.JETTY_JDBC,
            Stores.SPRING,
            Stores.TOMCAT);
    assertThat(report.results()).hasSize(5 * 2);
    for (CellResult r : report.results()) {
      assertThat(r.error()).as(r.store() + " " + r.workload()).isNull();
      assertThat(r.operations()).as(r.store() + " " + r.workload()).isPositive();
      assertThat(r.statementsPerOperation())
          .as(r.store() + " " + r.workload())
          .isBetween(1.0, 10.0);
    }
  }

  @Test
  void aReadOnlyRequestCostsTheFloorAndPgsessionOneStatement() throws Exception {
    SessionStoreBenchmark.Settings settings =
        new SessionStoreBenchmark.Settings(
            Duration.ofMillis(100),
            Duration.ofMillis(300),
            List.of(1),
            List.of(SessionShape.LARGE),
            List.of(Workload.READ_ONLY),
            List.of("floor", "jetty adapter"),
            2,
            20,
            2,
            "prepareThreshold=1",
            Path.of("target/benchmarks-smoke"));

    Report report = new SessionStoreBenchmark(settings).run();

    assertThat(report.results()).hasSize(2);
    assertThat(report.results())
        .allSatisfy(r -> assertThat(r.statements()).isEqualTo(r.operations()));
  }

  @Test
  void eachCellReportsItsRoundOfMedianThroughputOrItsFailure() {
    CellResult slow = result(Stores.FLOOR, 100, null);
    CellResult middle = result(Stores.FLOOR, 200, null);
    CellResult fast = result(Stores.FLOOR, 900, null);
    CellResult failed = result(Stores.FLOOR, 0, "IllegalStateException: lost session");

    assertThat(SessionStoreBenchmark.median(List.of(fast, slow, middle))).isSameAs(middle);
    assertThat(SessionStoreBenchmark.median(List.of(fast, failed, middle))).isSameAs(failed);
  }

  private static CellResult result(String store, long operations, String error) {
    return new CellResult(
        store,
        SessionShape.SMALL,
        Workload.READ_ONLY,
        1,
        operations,
        1.0,
        1000,
        2000,
        operations,
        0,
        -1,
        -1,
        error,
        List.of());
  }

  @Test
  void theReportIsWrittenAsMarkdownAndCsv() throws Exception {
    CellResult floor =
        new CellResult(
            Stores.FLOOR,
            SessionShape.SMALL,
            Workload.CREATE,
            1,
            100,
            1.0,
            1000,
            2000,
            100,
            3_000_000,
            250_000,
            40_000_000,
            null,
            List.of());
    CellResult other =
        new CellResult(
            Stores.TOMCAT,
            SessionShape.SMALL,
            Workload.CREATE,
            1,
            50,
            1.0,
            1000,
            2000,
            100,
            3_000_000,
            -1,
            -1,
            null,
            List.of());
    Report report = new Report(List.of(floor, other), List.of("a note"));

    List<Path> files = report.write(Files.createTempDirectory("bench-report"));

    assertThat(Files.readString(files.get(0)))
        .contains(
            "a note",
            "| small | create | 1 | floor (raw JDBC) | 100 | 1 | 2 | 1.00 | 30 | 2500 | 400 | 1.00 |",
            "| small | create | 1 | Tomcat DataSourceStore | 50 | 1 | 2 | 2.00 | 60 |  |  | 0.50 |");
    assertThat(Files.readString(files.get(1)))
        .contains(
            "small,create,1,\"Tomcat DataSourceStore\",50,1.000,50.0,1.0,2.0,2.000,60.0,,,0.500,,");
  }

  @Test
  void aRatioBetweenStoresIsTheMedianOfTheirRatiosRoundByRound() {
    // The floor's second round ran in a slow stretch of the machine, the store's first: compared
    // round by round the store reached 0.9, 0.5 and 0.95 of the floor; the ratio of the two
    // median rounds (150 against 200) would say 0.75.
    CellResult floor = rounds(Stores.FLOOR, 100.0, 300.0, 200.0);
    CellResult store = rounds(Stores.PGSESSION, 90.0, 150.0, 190.0);

    assertThat(Report.ratio(store, floor)).isCloseTo(0.9, within(1e-9));
    assertThat(Report.ratio(floor, store)).isCloseTo(1 / 0.9, within(1e-9));
    assertThat(new Report(List.of(floor, store), List.of()).markdown())
        .contains("| 0.90 |\n")
        .contains("save (create), small, 8 threads: 0.90 of the floor")
        .doesNotContain("0.75");
  }

  @Test
  void storesThatRanDifferentRoundsAreComparedByTheirReportedFigures() {
    CellResult floor = rounds(Stores.FLOOR, 100.0, 300.0, 200.0);
    CellResult single = rounds(Stores.PGSESSION, 150.0);

    assertThat(Report.ratio(single, floor)).isCloseTo(0.75, within(1e-9));
  }

  /** A small create cell at 8 threads reported as its median round, having run these rounds. */
  private static CellResult rounds(String store, Double... rates) {
    List<Double> all = List.of(rates);
    double median = all.stream().sorted().toList().get(all.size() / 2);
    return new CellResult(
            store,
            SessionShape.SMALL,
            Workload.CREATE,
            8,
            (long) median,
            1.0,
            1000,
            2000,
            (long) median,
            0,
            -1,
            -1,
            null,
            List.of())
        .withRoundRates(all);
  }

  @Test
  void storesTakeTurnsSoThatNoneAlwaysRunsFirstOrRightAfterTheSameStore() {
    int stores = 5;
    int rounds = 5;
    Set<Integer> firsts = new HashSet<>();
    Map<Integer, Set<Integer>> successors = new HashMap<>();
    for (int round = 0; round < rounds; round++) {
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < stores; i++) {
        order.add(SessionStoreBenchmark.turn(round, i, stores));
      }
      assertThat(order).as("round %d", round).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
      firsts.add(order.get(0));
      for (int i = 1; i < stores; i++) {
        successors.computeIfAbsent(order.get(i - 1), k -> new HashSet<>()).add(order.get(i));
      }
    }

    assertThat(firsts).hasSize(rounds);
    assertThat(successors.values()).allSatisfy(next -> assertThat(next).hasSizeGreaterThan(1));
  }
}
