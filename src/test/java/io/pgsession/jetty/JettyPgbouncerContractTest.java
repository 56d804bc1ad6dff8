package io.pgsession.jetty;

import io.pgsession.testing.Pgbouncer;
import io.pgsession.testing.PgbouncerRoute;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;

/**
 * The contract, run on the Jetty data store through pgbouncer in transaction pooling mode, with the
 * driver settings that mode needs ({@link Pgbouncer#JDBC_PARAMETERS}).
 */
class JettyPgbouncerContractTest extends JettyStoreContractTest {
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
