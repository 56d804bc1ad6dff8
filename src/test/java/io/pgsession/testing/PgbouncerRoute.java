package io.pgsession.testing;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Pools that reach a test class's database through a {@link Pgbouncer} of their own, for running a
 * contract suite through pgbouncer: start it in {@code @BeforeAll}, close it in {@code @AfterAll}.
 */
public final class PgbouncerRoute implements AutoCloseable {
  private final Pgbouncer bouncer;
  private final String url;
  private final PostgresServer server;
  private final List<HikariDataSource> pools = new ArrayList<>();

  private PgbouncerRoute(Pgbouncer bouncer, PostgresExtension pg) {
    this.bouncer = bouncer;
    this.server = pg.server();
    this.url = bouncer.jdbcUrlFor(pg.jdbcUrl());
  }

  /** Starts pgbouncer in front of the class's database; skips the class if it is not installed. */
  public static PgbouncerRoute start(PostgresExtension pg) {
    Pgbouncer.assumeInstalled();
    return new PgbouncerRoute(Pgbouncer.start(pg.server()), pg);
  }

  /** A pool shared by the class, through pgbouncer. */
  public DataSource shared() {
    return pools.isEmpty() ? newDataSource() : pools.get(0);
  }

  /** A new pool through pgbouncer, closed with the route. */
  public DataSource newDataSource() {
    HikariDataSource ds =
        PgDataSources.create(server.settings(url), "pgsession-via-pgbouncer-" + pools.size());
    pools.add(ds);
    return ds;
  }

  @Override
  public void close() {
    pools.forEach(HikariDataSource::close);
    pools.clear();
    bouncer.close();
  }
}
