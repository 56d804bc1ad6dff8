package io.pgsession.bench;

import io.pgsession.PgSessionConfig;
import io.pgsession.jetty.PgSessionDataStore;
import io.pgsession.jetty.PgSessionDataStoreFactory;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.eclipse.jetty.session.DatabaseAdaptor;
import org.eclipse.jetty.session.JDBCSessionDataStore;

/** The stores compared, each configured as its documentation says for PostgreSQL. */
final class Stores {
  static final String FLOOR = "floor (raw JDBC)";
  static final String PGSESSION = "pgsession (Jetty adapter)";
  static final String PGSESSION_CORE = "pgsession (core)";
  static final String JETTY_JDBC = "Jetty JDBCSessionDataStore";
  static final String SPRING = "Spring Session JDBC";
  static final String TOMCAT = "Tomcat DataSourceStore";

  private Stores() {}

  /**
   * Every store, on one data source, whose names contain one of {@code only} (all when empty). The
   * caller closes them.
   */
  static List<StoreDriver<?>> create(DataSource ds, int maxInactiveSeconds, List<String> only)
      throws Exception {
    List<StoreDriver<?>> stores = new ArrayList<>();
    if (wanted(FLOOR, only)) {
      stores.add(new FloorDriver(ds, maxInactiveSeconds));
    }
    if (wanted(PGSESSION, only)) {
      stores.add(pgsession(ds, maxInactiveSeconds));
    }
    // The core store without the adapter, on request only: it shows what the adapter costs.
    if (!only.isEmpty() && wanted(PGSESSION_CORE, only)) {
      stores.add(new PgSessionCoreDriver(ds, maxInactiveSeconds));
    }
    if (wanted(JETTY_JDBC, only)) {
      stores.add(jettyJdbc(ds, maxInactiveSeconds));
    }
    if (wanted(SPRING, only)) {
      stores.add(new SpringJdbcDriver(ds, maxInactiveSeconds));
    }
    if (wanted(TOMCAT, only)) {
      stores.add(new TomcatStoreDriver(ds, maxInactiveSeconds));
    }
    return stores;
  }

  private static boolean wanted(String name, List<String> only) {
    String lower = name.toLowerCase();
    return only.isEmpty() || only.stream().anyMatch(o -> lower.contains(o.toLowerCase()));
  }

  /**
   * Jetty's JDBC store as its documentation configures it for PostgreSQL: a {@link DatabaseAdaptor}
   * on the data source with {@code bytea} blobs and {@code bigint} longs, the default table schema
   * ({@code JettySessions}, created by the store), default save period.
   */
  static StoreDriver<?> jettyJdbc(DataSource ds, int maxInactiveSeconds) throws Exception {
    DatabaseAdaptor adaptor = new DatabaseAdaptor();
    adaptor.setDatasource(ds);
    adaptor.setBlobType("bytea");
    adaptor.setLongType("bigint");
    JDBCSessionDataStore store = new JDBCSessionDataStore();
    store.setDatabaseAdaptor(adaptor);
    return new JettyStoreDriver(
        JETTY_JDBC, store, () -> truncate(ds, "jettysessions"), maxInactiveSeconds);
  }

  /**
   * pgsession as a Jetty user configures it: a {@link PgSessionDataStoreFactory} given the data
   * source, everything else at its defaults (the reaper included).
   */
  static StoreDriver<?> pgsession(DataSource ds, int maxInactiveSeconds) throws Exception {
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setDataSource(ds);
    factory.setReadCacheBytes(readCacheBytes());
    PgSessionDataStore store = factory.getSessionDataStore(JettyStoreDriver.sessionManager());
    return new JettyStoreDriver(
        PGSESSION,
        store,
        () -> {
          store.store().ensureTable();
          truncate(ds, store.store().tableName());
        },
        maxInactiveSeconds);
  }

  /** pgsession's {@code readCacheBytes}: {@code bench.readCacheBytes}, else its default. */
  static long readCacheBytes() {
    String set = System.getProperty("bench.readCacheBytes");
    return set == null ? PgSessionConfig.defaults().readCacheBytes() : Long.parseLong(set);
  }

  static void truncate(DataSource ds, String table) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE " + table);
    }
  }

  /** The name pgsession's results carry in this run. */
  static String pgsessionName(List<CellResult> results) {
    return results.stream()
        .map(CellResult::store)
        .filter(n -> n.startsWith("pgsession"))
        .findFirst()
        .orElse(PGSESSION);
  }
}
