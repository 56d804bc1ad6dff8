package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.notallowed.Initialised;
import io.pgsession.testing.PostgresExtension;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A row naming a class outside the allowlist never makes the store load that class: whoever can
 * write to the table cannot run code through it.
 */
class AllowlistTest {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private static final String TRIPWIRE = "io.pgsession.notallowed.Tripwire";
  private static final AtomicInteger IDS = new AtomicInteger();

  private RecordingLoader loader;
  private PgSessionStore store;

  @BeforeEach
  void createStore() {
    loader = new RecordingLoader(AllowlistTest.class.getClassLoader());
    PgSessionConfig config =
        PgSessionConfig.builder().allowPackages("io.pgsession.valuetypes").build();
    store = new PgSessionStore(pg.dataSource(), config, loader);
    store.ensureTable();
  }

  static Stream<String> gadgets() {
    return Stream.of(
        TRIPWIRE,
        "com.sun.rowset.JdbcRowSetImpl",
        "org.apache.commons.collections.functors.InvokerTransformer",
        "java.lang.ProcessBuilder",
        "javax.script.ScriptEngineManager",
        "ch.qos.logback.core.db.DriverManagerConnectionSource",
        "com.zaxxer.hikari.HikariConfig",
        "org.springframework.beans.factory.ObjectFactory");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("gadgets")
  void rowNamingAClassOutsideTheAllowlistLoadsAsNoSessionWithoutLoadingTheClass(String className) {
    String sid = rowNaming("{\"@t\":\"" + className + "\",\"v\":{}}");

    SessionRecord loaded = store.load(sid);

    assertThat(loaded).isNull();
    assertThat(loader.requested).doesNotContain(className);
    assertThat(Initialised.TRIPWIRE).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("gadgets")
  void classNamedAsAnArrayElementOrMapEntryIsNotLoadedEither(String className) {
    List<String> placements =
        List.of(
            "{\"@t\":\"" + className + "[]\",\"v\":[{}]}",
            "{\"@t\":\"java.util.HashMap\",\"e\":[[1,{\"@t\":\"" + className + "\",\"v\":{}}]]}",
            "[{\"@t\":\"" + className + "\",\"v\":\"x\"}]");

    for (String value : placements) {
      assertThat(store.load(rowNaming(value))).as(value).isNull();
    }

    assertThat(loader.requested).doesNotContain(className);
    assertThat(Initialised.TRIPWIRE).isFalse();
  }

  @Test
  void allowedClassIsLoadedThroughTheGivenLoader() {
    String sid = rowNaming("{\"@t\":\"io.pgsession.valuetypes.ValueTypes$Level\",\"v\":\"LOW\"}");

    SessionRecord loaded = store.load(sid);

    assertThat(loaded.attributes().get("value")).hasToString("LOW");
    assertThat(loader.requested).contains("io.pgsession.valuetypes.ValueTypes$Level");
  }

  @Test
  void allowedPackageDoesNotAllowAPackageThatMerelySharesItsPrefix() {
    PgSessionConfig config = PgSessionConfig.builder().allowPackages("io.pgsession.not").build();
    PgSessionStore narrow = new PgSessionStore(pg.dataSource(), config, loader);
    String sid = rowNaming("{\"@t\":\"" + TRIPWIRE + "\",\"v\":{}}");

    assertThat(narrow.load(sid)).isNull();
    assertThat(loader.requested).doesNotContain(TRIPWIRE);
    assertThat(Initialised.TRIPWIRE).isFalse();
  }

  private static String rowNaming(String valueJson) {
    String sid = "allow-" + IDS.incrementAndGet();
    Sql.update(
        pg.dataSource(),
        "INSERT INTO session VALUES (?, ?::json, timezone('UTC', now()) + interval '1 hour')",
        sid,
        "{\"cookie\":{},\"pgsession\":{\"version\":1},\"value\":" + valueJson + "}");
    return sid;
  }

  /** Passes every request to its parent and records the names asked for. */
  private static final class RecordingLoader extends ClassLoader {
    final List<String> requested = new CopyOnWriteArrayList<>();

    RecordingLoader(ClassLoader parent) {
      super(parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      requested.add(name);
      return super.loadClass(name, resolve);
    }
  }
}
