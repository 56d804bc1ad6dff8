package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import io.pgsession.testing.Eventually;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops PostgreSQL under load and starts it again: requests fail fast with a clear error while it
 * is down, service comes back by itself, and no session saved before the outage is lost.
 */
class DatabaseOutageTest {
  private static final Logger log = LoggerFactory.getLogger(DatabaseOutageTest.class);
  private static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration FAIL_FAST_MARGIN = Duration.ofSeconds(2);
  private static final Duration RECOVERY_LIMIT = Duration.ofSeconds(15);
  private static final int CLIENTS = 8;
  private static final int POOL_SIZE = 4;
  private static final int SESSIONS = 200;

  @Test
  void requestsFailFastDuringAShortOutageAndServiceRecoversWithEverySession() throws Exception {
    runOutage(Duration.ofSeconds(5));
  }

  @Test
  @Tag("slow")
  void requestsFailFastDuringALongOutageAndServiceRecoversWithEverySession() throws Exception {
    runOutage(Duration.ofSeconds(Long.getLong("pgsession.outage.seconds", 30)));
  }

  @Test
  void aStoreCreatedWhileTheDatabaseIsDownWorksOnceItIsUp() {
    try (RestartablePostgres pg = RestartablePostgres.start("created-while-down")) {
      pg.stop();
      try (HikariDataSource pool =
          PgDataSources.create(pg.settings(2, CONNECTION_TIMEOUT), "outage-late")) {
        PgSessionStore store = new PgSessionStore(pool, PgSessionConfig.defaults(), loader());
        SessionRecord record = new SessionRecord("late-1", System.currentTimeMillis(), 3600);
        record.attributes().put("user", "ann");

        Throwable whileDown = catchFailure(() -> store.save(record));
        pg.start();
        Eventually.run(() -> store.save(record), Duration.ofSeconds(10));

        assertThat(whileDown)
            .isInstanceOf(PgSessionException.class)
            .hasMessageContaining("cannot reach the database");
        assertThat(store.load("late-1").attributes()).containsEntry("user", "ann");
      }
    }
  }

  private void runOutage(Duration outage) throws Exception {
    try (RestartablePostgres pg = RestartablePostgres.start("outage");
        HikariDataSource pool =
            PgDataSources.create(pg.settings(POOL_SIZE, CONNECTION_TIMEOUT), "outage")) {
      PgSessionStore store = new PgSessionStore(pool, PgSessionConfig.defaults(), loader());
      seed(store);
      Load load = new Load(store);

      Timeline timeline = load.runAround(pg, outage);

      OutageFigures figures = OutageFigures.of(load.calls, timeline);
      log.info("[figures] outage of {}: {}", outage, figures);
      assertThat(load.unexpected).as("errors other than PgSessionException").isEmpty();
      assertThat(load.lostSessions).as("sessions that loaded as absent").isEmpty();
      assertThat(figures.failedDuringOutage()).as("requests failed during the outage").isPositive();
      assertThat(figures.slowestFailure())
          .as("slowest failed request")
          .isLessThanOrEqualTo(CONNECTION_TIMEOUT.plus(FAIL_FAST_MARGIN));
      assertThat(figures.outageMessages())
          .as("messages of requests failed during the outage")
          .allMatch(m -> m.contains("cannot reach the database"));
      assertThat(figures.transitionMessages())
          .as("messages of requests failed while the database stopped or started")
          .allMatch(m -> m.contains("cannot reach the database"));
      assertThat(figures.recovery()).as("time to recovery").isLessThan(RECOVERY_LIMIT);
      assertThat(figures.servedAfterRestart()).isPositive();
      load.assertEveryConfirmedWriteIsStored(store);
    }
  }

  private static void seed(PgSessionStore store) {
    for (int s = 0; s < SESSIONS; s++) {
      SessionRecord record = new SessionRecord(sid(s), System.currentTimeMillis(), 3600);
      record.attributes().put("seed", s);
      record.attributes().put("payload", "data of session " + s);
      store.save(record);
    }
  }

  static String sid(int s) {
    return "outage-" + s;
  }

  private static ClassLoader loader() {
    return DatabaseOutageTest.class.getClassLoader();
  }

  private static Throwable catchFailure(Runnable action) {
    try {
      action.run();
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }

  /** When the database went down and came back, in System.nanoTime(). */
  record Timeline(long stopBegin, long stopped, long startBegin, long started) {}

  /** One request: load, change this client's own attribute, save. */
  record Call(int client, long begin, long end, boolean ok, String error) {
    Duration duration() {
      return Duration.ofNanos(end - begin);
    }
  }

  /** Clients doing requests on the seeded sessions until told to stop. */
  private static final class Load {
    private final PgSessionStore store;
    private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> lostSessions = new ConcurrentLinkedQueue<>();
    private final long[][] attempted = new long[CLIENTS][SESSIONS];
    private final long[][] confirmed = new long[CLIENTS][SESSIONS];
    private final AtomicBoolean stop = new AtomicBoolean();

    Load(PgSessionStore store) {
      this.store = store;
    }

    Timeline runAround(RestartablePostgres pg, Duration outage) throws InterruptedException {
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      long deadline = System.nanoTime() + outage.plus(Duration.ofSeconds(90)).toNanos();
      for (int k = 0; k < CLIENTS; k++) {
        int client = k;
        clients.execute(() -> runClient(client, deadline));
      }
      Timeline timeline;
      try {
        awaitCalls(200, deadline);
        long stopBegin = System.nanoTime();
        pg.stop();
        long stopped = System.nanoTime();
        TimeUnit.NANOSECONDS.sleep(outage.toNanos() - (stopped - stopBegin));
        long startBegin = System.nanoTime();
        pg.start();
        timeline = new Timeline(stopBegin, stopped, startBegin, System.nanoTime());
        awaitEveryClientServedAfter(timeline.started(), deadline);
      } finally {
        stop.set(true);
        clients.shutdown();
      }
      assertThat(clients.awaitTermination(CONNECTION_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS))
          .as("every client thread ended")
          .isTrue();
      return timeline;
    }

    private void runClient(int client, long deadline) {
      while (!stop.get() && System.nanoTime() < deadline) {
        int s = ThreadLocalRandom.current().nextInt(SESSIONS);
        long begin = System.nanoTime();
        String error = null;
        try {
          request(client, s);
        } catch (PgSessionException e) {
          error = e.getMessage();
        } catch (Throwable t) {
          unexpected.add(t);
          error = String.valueOf(t);
        }
        calls.add(new Call(client, begin, System.nanoTime(), error == null, error));
        if (error != null) {
          pause();
        }
      }
    }

    private void request(int client, int s) {
      SessionRecord record = store.load(sid(s));
      if (record == null) {
        lostSessions.add(sid(s));
        return;
      }
      long value = ++attempted[client][s];
      record.attributes().put("t" + client, value);
      store.save(record);
      confirmed[client][s] = value;
    }

    /** A failed client backs off a little, as a retrying caller would; it keeps the log small. */
    private static void pause() {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void awaitCalls(int count, long deadline) throws InterruptedException {
      while (calls.size() < count && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    }

    private void awaitEveryClientServedAfter(long started, long deadline)
        throws InterruptedException {
      while (System.nanoTime() < deadline) {
        long served =
            calls.stream()
                .filter(c -> c.ok() && c.begin() >= started)
                .mapToInt(Call::client)
                .distinct()
                .count();
        if (served == CLIENTS) {
          return;
        }
        Thread.sleep(20);
      }
    }

    void assertEveryConfirmedWriteIsStored(PgSessionStore store) {
      List<String> problems = new ArrayList<>();
      for (int s = 0; s < SESSIONS; s++) {
        SessionRecord record = store.load(sid(s));
        if (record == null) {
          problems.add(sid(s) + " is gone");
          continue;
        }
        if (!Integer.valueOf(s).equals(record.attributes().get("seed"))) {
          problems.add(sid(s) + " lost its seed attribute: " + record.attributes());
        }
        for (int k = 0; k < CLIENTS; k++) {
          Object stored = record.attributes().get("t" + k);
          long value = stored == null ? 0 : (Long) stored;
          if (value < confirmed[k][s] || value > attempted[k][s]) {
            problems.add(
                sid(s)
                    + " t"
                    + k
                    + " = "
                    + value
                    + ", confirmed "
                    + confirmed[k][s]
                    + ", attempted "
                    + attempted[k][s]);
          }
        }
      }
      assertThat(problems).as("sessions that lost data").isEmpty();
    }
  }

  /** What the calls show about the outage. */
  record OutageFigures(
      int servedBeforeOutage,
      int servedDuringOutage,
      int failedDuringOutage,
      int failedAroundTransitions,
      int servedAfterRestart,
      Duration slowestFailure,
      Duration recovery,
      Duration allClientsRecovered,
      List<String> outageMessages,
      Set<String> transitionMessages) {

    static OutageFigures of(Iterable<Call> calls, Timeline t) {
      int before = 0;
      int servedDuring = 0;
      int failedDuring = 0;
      int around = 0;
      int after = 0;
      Duration slowest = Duration.ZERO;
      long firstOkAfter = Long.MAX_VALUE;
      long[] clientFirstOk = new long[CLIENTS];
      List<String> messages = new ArrayList<>();
      Set<String> transition = new TreeSet<>();
      for (Call c : calls) {
        if (!c.ok() && c.duration().compareTo(slowest) > 0) {
          slowest = c.duration();
        }
        if (c.end() <= t.stopBegin()) {
          before += c.ok() ? 1 : 0;
        } else if (c.begin() >= t.stopped() && c.end() <= t.startBegin()) {
          servedDuring += c.ok() ? 1 : 0;
          failedDuring += c.ok() ? 0 : 1;
          if (!c.ok() && messages.size() < 10_000) {
            messages.add(c.error());
          }
        } else if (c.begin() >= t.started()) {
          if (c.ok()) {
            after++;
            firstOkAfter = Math.min(firstOkAfter, c.end());
            if (clientFirstOk[c.client()] == 0 || clientFirstOk[c.client()] > c.end()) {
              clientFirstOk[c.client()] = c.end();
            }
          }
        } else if (!c.ok()) {
          around++;
          transition.add(c.error().replaceAll("session \"[^\"]*\"", "session ..."));
        }
      }
      long lastClient = 0;
      for (long first : clientFirstOk) {
        lastClient = Math.max(lastClient, first == 0 ? Long.MAX_VALUE : first);
      }
      return new OutageFigures(
          before,
          servedDuring,
          failedDuring,
          around,
          after,
          slowest,
          since(t.started(), firstOkAfter),
          since(t.started(), lastClient),
          messages,
          transition);
    }

    private static Duration since(long start, long end) {
      return end == Long.MAX_VALUE ? ChronoForever.FOREVER : Duration.ofNanos(end - start);
    }

    @Override
    public String toString() {
      return "served before="
          + servedBeforeOutage
          + ", served during outage="
          + servedDuringOutage
          + ", failed during outage="
          + failedDuringOutage
          + ", failed around stop/start="
          + failedAroundTransitions
          + ", served after restart="
          + servedAfterRestart
          + ", slowest failure="
          + slowestFailure.toMillis()
          + " ms, first success after restart="
          + recovery.toMillis()
          + " ms, all clients served after restart="
          + allClientsRecovered.toMillis()
          + " ms, sample message="
          + (outageMessages.isEmpty() ? "(none)" : outageMessages.get(0))
          + ", messages around stop/start="
          + transitionMessages;
    }
  }

  /** A duration that stands for "never happened". */
  private static final class ChronoForever {
    static final Duration FOREVER = Duration.ofDays(365);
  }
}
