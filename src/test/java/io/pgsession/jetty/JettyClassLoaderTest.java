package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.factory;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Stored values are resolved with the web application's class loader. */
class JettyClassLoaderTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  /** A web application class loader that notes which classes it was asked for. */
  static final class RecordingLoader extends ClassLoader {
    final List<String> asked = new CopyOnWriteArrayList<>();

    RecordingLoader(ClassLoader parent) {
      super(parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      asked.add(name);
      return super.loadClass(name, resolve);
    }
  }

  @Test
  void storedRecordIsResolvedWithTheContextsClassLoader() throws Exception {
    RecordingLoader loader = new RecordingLoader(getClass().getClassLoader());
    JettyNode node = JettyNode.start("a", factory(pg), c -> c.setClassLoader(loader), "/");
    Browser browser = new Browser();
    browser.get(node.uri("op=types"));
    loader.asked.clear();

    String checked = browser.get(node.uri("op=check-types"));
    node.close();

    assertThat(checked).contains("item=equal");
    assertThat(loader.asked).contains("io.pgsession.jetty.testapp.Item");
  }
}
