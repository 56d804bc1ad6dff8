package io.pgsession.testing;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives a test class a database of its own on the run's {@link PostgresServer}. Register it as a
 * static field with {@code @RegisterExtension}; pools it opens are closed after the class.
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback {
  private final List<HikariDataSource> pools = new ArrayList<>();
  private String url;

  @Override
  public void beforeAll(ExtensionContext context) {
    url = PostgresServer.get().createDatabase(context.getRequiredTestClass().getSimpleName());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    pools.forEach(HikariDataSource::close);
    pools.clear();
  }

  /** The JDBC URL of this class's database. */
  public String jdbcUrl() {
    return url;
  }

  public PostgresServer server() {
    return PostgresServer.get();
  }

  /** A new pool on this class's database, closed after the class. */
  public HikariDataSource newDataSource() {
    HikariDataSource ds =
        PgDataSources.create(PostgresServer.get().settings(url), "pgsession-test-" + pools.size());
    pools.add(ds);
    return ds;
  }

  /** A shared pool on this class's database. */
  public DataSource dataSource() {
    return pools.isEmpty() ? newDataSource() : pools.get(0);
  }
}
