package io.pgsession.contract;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.PgDataSources;
import io.pgsession.testing.Pgbouncer;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The contract, run on the core store through pgbouncer in transaction pooling mode, with the
 * driver settings that mode needs ({@link Pgbouncer#JDBC_PARAMETERS}).
 */
class PgbouncerContractTest extends CoreStoreContractTest {
  private static Pgbouncer bouncer;
  private static HikariDataSource shared;
  private static final List<HikariDataSource> others = new ArrayList<>();

  @BeforeAll
  static void startPgbouncer() {
    Pgbouncer.assumeInstalled();
    bouncer = Pgbouncer.start(pg.server());
    shared = pool();
  }

  @AfterAll
  static void stopPgbouncer() {
    others.forEach(HikariDataSource::close);
    others.clear();
    if (shared != null) {
      shared.close();
    }
    if (bouncer != null) {
      bouncer.close();
    }
  }

  @Override
  protected DataSource subjectDataSource() {
    return shared;
  }

  @Override
  protected DataSource newSubjectDataSource() {
    HikariDataSource ds = pool();
    others.add(ds);
    return ds;
  }

  private static HikariDataSource pool() {
    return PgDataSources.create(
        pg.server().settings(bouncer.jdbcUrlFor(pg.jdbcUrl())), "pgsession-via-pgbouncer");
  }
}
