package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.pgsession.testing.Eventually;
import io.pgsession.testing.PostgresExtension;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The table: the init script, creation by the library, and tables made by others. */
class SessionTableTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final List<HikariDataSource> POOLS = new CopyOnWriteArrayList<>();
  private static final Path INIT_SCRIPT =
      Path.of("docker-entrypoint-initdb.d", "init-session-table.sql");

  @Test
  void initScriptAndLibraryCreateTheSameTable() throws Exception {
    DataSource byScript = newDatabase("by_script");
    DataSource byLibrary = newDatabase("by_library");

    runInitScript(byScript);
    new PgSessionStore(byLibrary, PgSessionConfig.defaults(), loader()).ensureTable();

    assertThat(catalog(byScript, "session")).isEqualTo(catalog(byLibrary, "session"));
  }

  @Test
  void initScriptDescribesTheTableLikeTheLibrarysDdlResource() throws IOException {
    String script = Files.readString(INIT_SCRIPT);

    for (String statement : SessionTable.ddl(PgSessionConfig.defaults())) {
      assertThat(normalise(script)).contains(normalise(statement));
    }
  }

  @Test
  void initScriptCanRunTwiceAndSaysWhatTheTableIsFor() throws Exception {
    DataSource ds = newDatabase("twice");
    runInitScript(ds);

    List<String> notices = runInitScript(ds);

    assertThat(String.join("\n", notices))
        .contains("ready", "pgsession", "connect-pg-simple", "Java", "Node");
    assertThat(Sql.number(ds, "SELECT count(*) FROM pg_indexes WHERE tablename = 'session'"))
        .isEqualTo(2);
  }

  @Test
  void initScriptGrantsTheApplicationItsFourPrivileges() throws Exception {
    DataSource ds = newDatabase("grants");

    runInitScript(ds);

    // Without an explicit grant relacl stays null: the owner's rights are implicit.
    assertThat(
            Sql.rows(
                ds,
                "SELECT a.privilege_type FROM pg_class c, aclexplode(c.relacl) a"
                    + " WHERE c.oid = 'public.session'::regclass"
                    + " AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
                    + " ORDER BY 1"))
        .flatMap(row -> row)
        .contains("DELETE", "INSERT", "SELECT", "UPDATE");
  }

  @Test
  void tableMadeByConnectPgSimpleIsAcceptedAsItIsAndUsed() throws Exception {
    DataSource cps = newDatabase("connect_pg_simple");
    DataSource byLibrary = newDatabase("library_reference");
    createLikeConnectPgSimple(cps);
    List<List<String>> before = catalog(cps, "session");
    PgSessionStore store = new PgSessionStore(cps, PgSessionConfig.defaults(), loader());
    new PgSessionStore(byLibrary, PgSessionConfig.defaults(), loader()).ensureTable();

    SessionRecord record = new SessionRecord("cps-1", System.currentTimeMillis(), 600);
    record.attributes().put("user", "ann");
    store.save(record);

    assertThat(store.load("cps-1").attributes()).containsEntry("user", "ann");
    assertThat(catalog(cps, "session")).isEqualTo(before).isEqualTo(catalog(byLibrary, "session"));
  }

  @Test
  void rowWrittenByConnectPgSimpleLoadsWithItsAttributes() throws Exception {
    DataSource cps = newDatabase("node_row");
    createLikeConnectPgSimple(cps);
    String sess =
        "{\"cookie\":{\"originalMaxAge\":600000,\"expires\":\"2030-01-01T00:00:00.000Z\","
            + "\"httpOnly\":true,\"path\":\"/\"},\"user\":\"ann\",\"visits\":3}";
    Sql.update(
        cps,
        "INSERT INTO session VALUES ('node-1', ?::json, timezone('UTC', now()) + interval '10"
            + " minutes')",
        sess);

    SessionRecord loaded =
        new PgSessionStore(cps, PgSessionConfig.defaults(), loader()).load("node-1");

    assertThat(loaded.attributes()).containsEntry("user", "ann").containsEntry("visits", 3);
    assertThat(loaded.maxInactiveSeconds()).isEqualTo(600);
  }

  @Test
  void customSchemaAndTableAreCreatedWithTheirOwnIndex() {
    DataSource ds = newDatabase("custom_names");
    PgSessionConfig config = PgSessionConfig.builder().schema("web").table("web_sessions").build();
    PgSessionStore store = new PgSessionStore(ds, config, loader());

    store.save(new SessionRecord("w-1", System.currentTimeMillis(), 60));

    assertThat(store.tableName()).isEqualTo("\"web\".\"web_sessions\"");
    assertThat(
            Sql.rows(
                ds,
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'web'"
                    + " AND tablename = 'web_sessions' ORDER BY indexname"))
        .containsExactly(List.of("IDX_web_sessions_expire"), List.of("web_sessions_pkey"));
    assertThat(Sql.number(ds, "SELECT count(*) FROM web.web_sessions")).isEqualTo(1);
    assertThat(Sql.text(ds, "SELECT to_regclass('public.session')")).isNull();
  }

  @Test
  void missingTableWithCreationOffFailsNamingTheTableAndTheInitScript() {
    DataSource ds = newDatabase("no_create");
    PgSessionConfig config = PgSessionConfig.builder().createTable(false).build();
    PgSessionStore store = new PgSessionStore(ds, config, loader());

    assertThatThrownBy(() -> store.load("any"))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("\"session\"")
        .hasMessageContaining("init-session-table.sql")
        .hasMessageContaining("createTable");
    assertThat(Sql.text(ds, "SELECT to_regclass('public.session')")).isNull();
  }

  @Test
  void tableWithoutItsPrimaryKeyFailsSayingHowToAddItAndWorksOnceAdded() throws Exception {
    DataSource ds = newDatabase("no_primary_key");
    Sql.update(
        ds,
        "CREATE TABLE session (sid varchar NOT NULL, sess json NOT NULL,"
            + " expire timestamp(6) NOT NULL)");
    PgSessionStore store = new PgSessionStore(ds, PgSessionConfig.defaults(), loader());

    assertThatThrownBy(() -> store.save(SessionRecord.newSession("pk-1", 1L, 60)))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("\"session\" has no primary key on sid")
        .hasMessageContaining("ALTER TABLE \"session\" ADD PRIMARY KEY (sid)");
    assertThat(Sql.number(ds, "SELECT count(*) FROM session")).isZero();

    Sql.update(ds, "ALTER TABLE session ADD PRIMARY KEY (sid)");
    store.save(SessionRecord.newSession("pk-1", System.currentTimeMillis(), 60));

    assertThat(store.load("pk-1")).isNotNull();
  }

  @Test
  void aUniqueIndexOnSidServesAsTheKey() throws Exception {
    DataSource ds = newDatabase("unique_index_key");
    Sql.update(
        ds,
        "CREATE TABLE session (sid varchar NOT NULL, sess json NOT NULL,"
            + " expire timestamp(6) NOT NULL)");
    Sql.update(ds, "CREATE UNIQUE INDEX session_sid ON session (sid)");
    PgSessionStore store = new PgSessionStore(ds, PgSessionConfig.defaults(), loader());

    store.save(new SessionRecord("ux-1", System.currentTimeMillis(), 60));

    assertThat(store.load("ux-1")).isNotNull();
  }

  @Test
  void unreachableDatabaseFailsClearlyAndIsRetriedOnceItIsBack() {
    DataSource real = newDatabase("late_start");
    AtomicBoolean up = new AtomicBoolean(false);
    PgSessionStore store =
        new PgSessionStore(unavailableUntil(up, real), PgSessionConfig.defaults(), loader());

    assertThatThrownBy(() -> store.load("s-1"))
        .isInstanceOf(PgSessionException.class)
        .hasMessageContaining("\"session\"")
        .hasMessageContaining("connection refused");
    up.set(true);
    Eventually.run(
        () -> store.save(new SessionRecord("s-1", System.currentTimeMillis(), 60)),
        Duration.ofSeconds(10));

    assertThat(store.load("s-1")).isNotNull();
  }

  @Test
  void requestsWaitingForADownDatabaseDoNotQueueBehindEachOther() throws Exception {
    CountDownLatch bothWaiting = new CountDownLatch(2);
    AtomicBoolean waitedAlone = new AtomicBoolean();
    DataSource down =
        failingConnections(
            () -> {
              bothWaiting.countDown();
              // Like a pool's connection timeout; returns at once when both wait together.
              if (!bothWaiting.await(5, TimeUnit.SECONDS)) {
                waitedAlone.set(true);
              }
            });
    PgSessionStore store = new PgSessionStore(down, PgSessionConfig.defaults(), loader());
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> first = pool.submit(() -> store.exists("a"));
      Future<?> second = pool.submit(() -> store.exists("b"));

      assertThatThrownBy(() -> first.get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(PgSessionException.class);
      assertThatThrownBy(() -> second.get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(PgSessionException.class);
    } finally {
      pool.shutdownNow();
    }

    assertThat(waitedAlone).as("a request waited alone, queued behind the other").isFalse();
  }

  @Test
  void nodesStartingTogetherOnAFreshSchemaAllSucceed() throws Exception {
    String url = pg.server().createDatabase("tables_race");
    int nodes = 8;
    PgSessionConfig config = PgSessionConfig.builder().schema("fresh").build();
    ExecutorService pool = Executors.newFixedThreadPool(nodes);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> results = new ArrayList<>();
    try {
      for (int i = 0; i < nodes; i++) {
        PgSessionStore store = new PgSessionStore(pool(url, "race-" + i), config, loader());
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  store.ensureTable();
                  return null;
                }));
      }

      start.countDown();
      for (Future<?> result : results) {
        result.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(
            Sql.number(
                pool(url, "race-check"),
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'fresh'"))
        .isEqualTo(2);
  }

  // ---------------------------------------------------------------- helpers

  private static ClassLoader loader() {
    return SessionTableTest.class.getClassLoader();
  }

  /** A pool on a new, empty database of the test server. */
  private static DataSource newDatabase(String name) {
    return pool(pg.server().createDatabase("tables_" + name), name);
  }

  private static DataSource pool(String url, String name) {
    HikariDataSource pool = PgDataSources.create(pg.server().settings(url), "test-" + name);
    POOLS.add(pool);
    return pool;
  }

  @AfterAll
  static void closePools() {
    POOLS.forEach(HikariDataSource::close);
  }

  /** Runs the whole script as one string, as psql would, and returns the notices it raised. */
  private static List<String> runInitScript(DataSource ds) throws IOException, SQLException {
    String script = Files.readString(INIT_SCRIPT);
    List<String> notices = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(script);
      for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
        notices.add(w.getMessage());
      }
    }
    return notices;
  }

  /** The table as connect-pg-simple's table.sql makes it (without WITH OIDS, gone in PG 12). */
  private static void createLikeConnectPgSimple(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE \"session\" (\"sid\" varchar NOT NULL COLLATE \"default\","
              + " \"sess\" json NOT NULL, \"expire\" timestamp(6) NOT NULL)");
      s.execute(
          "ALTER TABLE \"session\" ADD CONSTRAINT \"session_pkey\" PRIMARY KEY (\"sid\")"
              + " NOT DEFERRABLE INITIALLY IMMEDIATE");
      s.execute("CREATE INDEX \"IDX_session_expire\" ON \"session\" (\"expire\")");
    }
  }

  /** Columns, constraints and indexes of a table in the public schema, as comparable text. */
  private static List<List<String>> catalog(DataSource ds, String table) {
    List<List<String>> rows = new ArrayList<>();
    rows.addAll(
        Sql.rows(
            ds,
            "SELECT a.attnum::text, a.attname, format_type(a.atttypid, a.atttypmod),"
                + " a.atttypmod::text, coalesce(coll.collname, '-'), a.attnotnull::text"
                + " FROM pg_attribute a LEFT JOIN pg_collation coll ON coll.oid = a.attcollation"
                + " WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped"
                + " ORDER BY a.attnum",
            "public." + table));
    rows.addAll(
        Sql.rows(
            ds,
            "SELECT conname, contype::text, pg_get_constraintdef(oid), condeferrable::text"
                + " FROM pg_constraint WHERE conrelid = to_regclass(?) ORDER BY conname",
            "public." + table));
    rows.addAll(
        Sql.rows(
            ds,
            "SELECT indexname, replace(indexdef, schemaname || '.', '') FROM pg_indexes"
                + " WHERE schemaname = 'public' AND tablename = ? ORDER BY indexname",
            table));
    assertThat(rows).as("catalog of %s", table).hasSizeGreaterThanOrEqualTo(6);
    return rows;
  }

  private static String normalise(String sql) {
    return sql.replaceAll("\\s+", " ").replace("( ", "(").replace(" )", ")").strip();
  }

  @FunctionalInterface
  private interface Wait {
    void run() throws InterruptedException;
  }

  /** A data source that waits, then refuses every connection. */
  private static DataSource failingConnections(Wait wait) {
    return (DataSource)
        Proxy.newProxyInstance(
            SessionTableTest.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              wait.run();
              throw new SQLException("connection timed out (the test's database is down)", "08001");
            });
  }

  /** A data source whose connections are refused until {@code up} is set. */
  private static DataSource unavailableUntil(AtomicBoolean up, DataSource real) {
    return (DataSource)
        Proxy.newProxyInstance(
            SessionTableTest.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection") && !up.get()) {
                throw new SQLException("connection refused (the test's database is down)", "08001");
              }
              try {
                return method.invoke(real, args);
              } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
