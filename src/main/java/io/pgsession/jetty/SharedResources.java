package io.pgsession.jetty;

import javax.sql.DataSource;

/**
 * What the stores of one factory share: the data source and the reaper. Each store acquires them
 * when it starts and releases them when it stops; the last release frees what the factory created.
 */
interface SharedResources {
  DataSource acquire();

  void release();
}
