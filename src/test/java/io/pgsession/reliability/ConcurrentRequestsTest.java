package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionException;
import io.pgsession.PgSessionStore;
import io.pgsession.PgSessionStore.SaveOutcome;
import io.pgsession.SessionRecord;
import io.pgsession.testing.PostgresExtension;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two nodes serve many concurrent requests on one session, each request incrementing a counter
 * attribute of its own client: the version check and re-apply of the store must lose none of them.
 */
class ConcurrentRequestsTest {
  private static final Logger log = LoggerFactory.getLogger(ConcurrentRequestsTest.class);
  private static final int CLIENTS_PER_NODE = 4;
  private static final int REQUESTS = Integer.getInteger("pgsession.concurrency.requests", 10_000);
  private static final String SID = "contended-session";

  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @Test
  void tenThousandConcurrentRequestsOnOneSessionFromTwoNodesLoseNoUpdate() throws Exception {
    List<PgSessionStore> nodes = List.of(store(), store());
    nodes.get(0).save(new SessionRecord(SID, System.currentTimeMillis(), 3600));
    Clients clients = new Clients(nodes);

    long elapsed = clients.run(REQUESTS);

    SessionRecord last = nodes.get(1).load(SID);
    long lostAtEnd = clients.lostAgainst(last);
    log.info(
        "[figures] {} requests by {} clients on 2 nodes in {} ms ({} requests/s): outcomes {},"
            + " lost seen by a client {}, lost at the end {}, failures {}",
        clients.served.get(),
        clients.count(),
        elapsed,
        clients.served.get() * 1000L / Math.max(1, elapsed),
        clients.outcomes,
        clients.lostSeen.get(),
        lostAtEnd,
        clients.failures.size()
            + (clients.failures.isEmpty() ? "" : ", first: " + clients.failures.peek()));
    assertThat(clients.failures)
        .as("failed requests (gave up, duplicate key, deadlock...)")
        .isEmpty();
    assertThat(clients.served.get() + clients.failures.size()).isEqualTo(REQUESTS);
    assertThat(clients.lostSeen.get()).as("lost updates seen when loading").isZero();
    assertThat(lostAtEnd).as("lost updates in the final session").isZero();
    assertThat(clients.outcomes.get(SaveOutcome.MERGED))
        .as("merges; without any the test proves nothing about conflicts")
        .isPositive();
  }

  private static PgSessionStore store() {
    return new PgSessionStore(
        pg.newDataSource(),
        PgSessionConfig.defaults(),
        ConcurrentRequestsTest.class.getClassLoader());
  }

  /** Client threads, half on each node, each the only writer of its own counter attribute. */
  private static final class Clients {
    private final List<PgSessionStore> nodes;
    private final long[] written;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicLong lostSeen = new AtomicLong();
    private final Map<SaveOutcome, AtomicInteger> counts = new EnumMap<>(SaveOutcome.class);
    private final Map<SaveOutcome, Integer> outcomes = new EnumMap<>(SaveOutcome.class);
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

    Clients(List<PgSessionStore> nodes) {
      this.nodes = nodes;
      this.written = new long[nodes.size() * CLIENTS_PER_NODE];
      for (SaveOutcome o : SaveOutcome.values()) {
        counts.put(o, new AtomicInteger());
      }
    }

    int count() {
      return written.length;
    }

    /** Runs the requests to the end; returns the elapsed milliseconds. */
    long run(int requests) throws InterruptedException {
      ExecutorService pool = Executors.newFixedThreadPool(count());
      CountDownLatch start = new CountDownLatch(1);
      for (int k = 0; k < count(); k++) {
        int client = k;
        pool.execute(() -> runClient(client, requests, start));
      }
      long begin = System.nanoTime();
      start.countDown();
      pool.shutdown();
      assertThat(pool.awaitTermination(5, TimeUnit.MINUTES)).as("clients finished").isTrue();
      counts.forEach((o, n) -> outcomes.put(o, n.get()));
      return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
    }

    private void runClient(int client, int requests, CountDownLatch start) {
      PgSessionStore store = nodes.get(client % nodes.size());
      try {
        start.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      while (next.getAndIncrement() < requests) {
        try {
          request(store, client);
          served.incrementAndGet();
        } catch (PgSessionException e) {
          failures.add(e.getMessage());
        }
      }
    }

    private void request(PgSessionStore store, int client) {
      SessionRecord record = store.load(SID);
      String name = "c" + client;
      long stored = record.attributes().get(name) instanceof Long l ? l : 0;
      if (stored != written[client]) {
        lostSeen.addAndGet(written[client] - stored);
      }
      record.attributes().put(name, written[client] + 1);
      counts.get(store.save(record)).incrementAndGet();
      written[client]++;
    }

    /** How many of the counted increments the final session does not hold. */
    long lostAgainst(SessionRecord last) {
      long lost = 0;
      for (int k = 0; k < count(); k++) {
        long stored = last.attributes().get("c" + k) instanceof Long l ? l : 0;
        lost += written[k] - stored;
      }
      return lost;
    }
  }
}
