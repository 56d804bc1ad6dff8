package io.pgsession.contract;

import io.pgsession.testing.Pgbouncer;
import io.pgsession.testing.PgbouncerRoute;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;

/**
 * The contract, run on the core store through pgbouncer in transaction pooling mode, with the
 * driver settings that mode needs ({@link Pgbouncer#JDBC_PARAMETERS}).
 */
class PgbouncerContractTest extends CoreStoreContractTest {
  private static final PgbouncerRoute route = new PgbouncerRoute(pg);

  @AfterAll
  static void stopPgbouncer() {
    route.close();
  }

  @Override
  protected DataSource subjectDataSource() {
    return route.shared();
  }

  @Override
  protected DataSource newSubjectDataSource() {
    return route.newDataSource();
  }
}
