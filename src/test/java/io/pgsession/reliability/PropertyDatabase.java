package io.pgsession.reliability;

import io.pgsession.PgDataSources;
import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionStore;
import io.pgsession.testing.PostgresServer;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Stores for property tests, which jqwik runs without JUnit Jupiter's extensions: a database of
 * their own on the run's server and one pool per simulated node, kept for the whole run.
 */
final class PropertyDatabase {
  private final List<PgSessionStore> nodes = new ArrayList<>();

  PropertyDatabase(String name, PgSessionConfig config, int nodeCount) {
    String url = PostgresServer.get().createDatabase(name);
    for (int i = 0; i < nodeCount; i++) {
      DataSource pool =
          PgDataSources.create(PostgresServer.get().settings(url), name + "-node" + i);
      nodes.add(new PgSessionStore(pool, config, PropertyDatabase.class.getClassLoader()));
    }
    nodes.get(0).ensureTable();
  }

  PgSessionStore node(int i) {
    return nodes.get(i);
  }
}
