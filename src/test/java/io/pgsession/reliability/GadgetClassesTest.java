package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import io.pgsession.reliability.allowed.Box;
import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Known deserialization gadget class names written into a row, in every place a type name can
 * stand: none is ever asked of the class loader, and the row reads as no session.
 */
class GadgetClassesTest {
  private static final List<String> GADGETS =
      List.of(
          "com.sun.rowset.JdbcRowSetImpl",
          "org.apache.commons.collections.functors.InvokerTransformer",
          "org.apache.commons.collections4.functors.InstantiateTransformer",
          "org.springframework.context.support.ClassPathXmlApplicationContext",
          "com.zaxxer.hikari.HikariConfig",
          "ch.qos.logback.core.db.JNDIConnectionSource",
          "java.lang.Runtime",
          "java.lang.ProcessBuilder",
          "javax.management.BadAttributeValueExpException",
          "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl",
          "org.codehaus.groovy.runtime.ConvertedClosure",
          "javax.script.ScriptEngineManager",
          "java.util.PriorityQueue",
          "java.net.URL",
          "io.pgsession.reliability.allowedButNot.Gadget",
          "io.pgsession.reliability.allowed",
          "io.pgsession.reliability.allowed..Box");
  private static final AtomicInteger IDS = new AtomicInteger();

  @RegisterExtension static PostgresExtension pg = new PostgresExtension();
  private static final RecordingClassLoader loader = new RecordingClassLoader();
  private static PgSessionStore store;

  @BeforeAll
  static void storeWithARecordingLoader() {
    PgSessionConfig config =
        PgSessionConfig.builder().allowPackages("io.pgsession.reliability.allowed").build();
    store = new PgSessionStore(pg.dataSource(), config, loader);
    store.ensureTable();
  }

  static Stream<Arguments> placements() {
    List<Arguments> cases = new ArrayList<>();
    for (String g : GADGETS) {
      cases.add(Arguments.of(g, "as the value", tagged(g)));
      cases.add(Arguments.of(g, "as an array", "{\"@t\":\"" + g + "[]\",\"v\":[{}]}"));
      cases.add(Arguments.of(g, "as a 2-d array", "{\"@t\":\"" + g + "[][]\",\"v\":[[]]}"));
      cases.add(
          Arguments.of(
              g, "in a map", "{\"@t\":\"java.util.HashMap\",\"v\":{\"k\":" + tagged(g) + "}}"));
      cases.add(
          Arguments.of(
              g, "as a map key", "{\"@t\":\"java.util.HashMap\",\"e\":[[" + tagged(g) + ",1]]}"));
      cases.add(Arguments.of(g, "in a plain list", "[1," + tagged(g) + "]"));
      cases.add(Arguments.of(g, "in a List.of", "{\"@t\":\"List.of\",\"v\":[" + tagged(g) + "]}"));
      cases.add(Arguments.of(g, "in a record", box(tagged(g))));
      cases.add(Arguments.of(g, "deep in a record", box(box(("[{\"x\":" + tagged(g) + "}]")))));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("placements")
  void aGadgetClassNameInARowIsNeverLoaded(String gadget, String where, String value)
      throws Exception {
    String sid = insert("{\"pgsession\":{\"version\":1},\"a\":" + value + "}");

    SessionRecord loaded = store.load(sid);

    assertThat(loaded).isNull();
    assertThat(loader.requested())
        .doesNotContain(gadget, gadget + "[]")
        .allMatch(GadgetClassesTest::isExpectedRequest);
  }

  @Test
  void theRecordingLoaderSeesTheAllowedClassesItIsAskedFor() throws Exception {
    String sid = insert("{\"a\":" + box("\"inside\"") + "}");

    SessionRecord loaded = store.load(sid);

    assertThat(loaded.attributes().get("a")).isEqualTo(new Box("inside", null, null));
    assertThat(loader.requested()).contains(Box.class.getName());
  }

  /** The only names the codec may ask for: the allowed test package and allowlisted JDK types. */
  private static boolean isExpectedRequest(String name) {
    return name.startsWith(Box.class.getName()) || name.startsWith("java.util.");
  }

  private static String tagged(String type) {
    return "{\"@t\":\"" + type + "\",\"v\":{}}";
  }

  private static String box(String content) {
    return "{\"@t\":\"" + Box.class.getName() + "\",\"v\":{\"content\":" + content + "}}";
  }

  private static String insert(String json) throws Exception {
    String sid = "gadget-" + IDS.incrementAndGet();
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO "
                    + store.tableName()
                    + " (sid, sess, expire) VALUES (?, ?::json,"
                    + " timezone('UTC', now()) + interval '1 hour')")) {
      ps.setString(1, sid);
      ps.setString(2, json);
      ps.executeUpdate();
    }
    return sid;
  }

  /** Delegates to the test class loader and remembers every name it was asked for. */
  static final class RecordingClassLoader extends ClassLoader {
    private final Set<String> requested = ConcurrentHashMap.newKeySet();

    RecordingClassLoader() {
      super(GadgetClassesTest.class.getClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      requested.add(name);
      return super.loadClass(name, resolve);
    }

    Set<String> requested() {
      return Set.copyOf(requested);
    }
  }
}
