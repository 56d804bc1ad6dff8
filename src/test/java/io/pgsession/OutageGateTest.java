package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsession.testing.PostgresExtension;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * While the database cannot be reached, requests fail at once rather than each waiting out the
 * connection timeout, and service comes back by itself.
 */
class OutageGateTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private final AtomicBoolean down = new AtomicBoolean();
  private final AtomicInteger attemptsWhileDown = new AtomicInteger();

  @Test
  void afterOneFailedConnectionFurtherCallsFailWithoutTryingUntilTheDatabaseIsBack()
      throws Exception {
    PgSessionStore store =
        new PgSessionStore(unplugged(pg.dataSource()), PgSessionConfig.defaults(), loader());
    SessionRecord saved = new SessionRecord("outage-1", System.currentTimeMillis(), 1800);
    saved.attributes().put("user", "ann");
    store.save(saved);
    down.set(true);

    for (int i = 0; i < 25; i++) {
      assertThatThrownBy(() -> store.load("outage-1"))
          .isInstanceOf(PgSessionException.class)
          .hasMessageContaining("outage-1")
          .hasMessageContaining("cannot reach the database");
    }
    int attempts = attemptsWhileDown.get();
    down.set(false);
    SessionRecord back = pollUntilLoaded(store, "outage-1", Duration.ofSeconds(10));

    assertThat(attempts).isEqualTo(1);
    assertThat(back.attributes()).containsEntry("user", "ann");
  }

  private DataSource unplugged(DataSource target) {
    return (DataSource)
        Proxy.newProxyInstance(
            loader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection") && down.get()) {
                attemptsWhileDown.incrementAndGet();
                throw new SQLException("Connection to 127.0.0.1 refused", "08001");
              }
              return method.invoke(target, args);
            });
  }

  private static SessionRecord pollUntilLoaded(PgSessionStore store, String sid, Duration limit)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(limit);
    while (true) {
      try {
        return store.load(sid);
      } catch (PgSessionException e) {
        if (Instant.now().isAfter(deadline)) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  private static ClassLoader loader() {
    return OutageGateTest.class.getClassLoader();
  }
}
