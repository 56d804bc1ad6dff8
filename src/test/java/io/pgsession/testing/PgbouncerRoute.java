package io.pgsession.testing;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Pools that reach a test class's database through a {@link Pgbouncer} of their own, for running a
 * contract suite through pgbouncer. pgbouncer starts on first use, from a test or
 * {@code @BeforeEach}, which skips the test with a message where pgbouncer is not installed. Close
 * the route in {@code @AfterAll}.
 */
public final class PgbouncerRoute implements AutoCloseable {
  private final PostgresExtension pg;
  private final List<HikariDataSource> pools = new ArrayList<>();
  private @Nullable Pgbouncer bouncer;

  public PgbouncerRoute(PostgresExtension pg) {
    this.pg = pg;
  }

  /** A pool shared by the class, through pgbouncer. */
  public synchronized DataSource shared() {
    return pools.isEmpty() ? newDataSource() : pools.get(0);
  }

  /** A new pool through pgbouncer, closed with the route. */
  public synchronized DataSource newDataSource() {
    Pgbouncer.assumeInstalled();
    if (bouncer == null) {
      bouncer = Pgbouncer.start(pg.server());
    }
    String url = bouncer.jdbcUrlFor(pg.jdbcUrl());
    HikariDataSource ds =
        PgDataSources.create(pg.server().settings(url), "pgsession-via-pgbouncer-" + pools.size());
    pools.add(ds);
    return ds;
  }

  @Override
  public synchronized void close() {
    pools.forEach(HikariDataSource::close);
    pools.clear();
    if (bouncer != null) {
      bouncer.close();
      bouncer = null;
    }
  }
}
