package io.pgsession.tomcat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsession.PgDataSources;
import io.pgsession.testing.PostgresExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.scan.StandardJarScanner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The manager as a user configures it: a web application whose META-INF/context.xml names it with
 * plain attributes, deployed by Tomcat's own configuration code.
 */
class ContextXmlTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private static final class Webapp implements AutoCloseable, Browser.Target {
    final Tomcat tomcat = new Tomcat();
    final Context context;

    Webapp(String managerAttributes) throws Exception {
      Path base = Files.createTempDirectory("pgsession-contextxml");
      Path docBase = base.resolve("shop");
      Files.createDirectories(docBase.resolve("META-INF"));
      Files.writeString(
          docBase.resolve("META-INF/context.xml"),
          "<Context><Manager className=\"io.pgsession.tomcat.PgSessionManager\" "
              + managerAttributes
              + "/></Context>",
          StandardCharsets.UTF_8);
      tomcat.setBaseDir(base.toString());
      tomcat.getEngine().setName("contextxml-" + System.nanoTime());
      Connector connector = new Connector("HTTP/1.1");
      connector.setPort(0);
      connector.setProperty("address", "127.0.0.1");
      tomcat.setConnector(connector);
      tomcat.getHost().setAppBase(base.toString());
      context = tomcat.addWebapp("/shop", docBase.toString());
      // The test class path is not the application's: scanning it would only take time.
      StandardJarScanner scanner = (StandardJarScanner) context.getJarScanner();
      scanner.setScanClassPath(false);
      scanner.setScanManifest(false);
      Tomcat.addServlet(context, "app", new TestApp.Servlet());
      context.addServletMappingDecoded("/*", "app");
      tomcat.start();
    }

    @Override
    public String url(String path) {
      return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + path;
    }

    @Override
    public void close() throws Exception {
      tomcat.stop();
      tomcat.destroy();
    }
  }

  private static String databaseAttributes() {
    PgDataSources.Settings db = pg.server().settings(pg.jdbcUrl());
    return "jdbcUrl=\""
        + xml(db.jdbcUrl())
        + "\" user=\""
        + xml(db.user())
        + "\" password=\""
        + xml(db.password() == null ? "" : db.password())
        + "\" maxPoolSize=\"2\" connectionTimeout=\"3\"";
  }

  private static String xml(String text) {
    return text.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;");
  }

  @Test
  void managerNamedInContextXmlWithTextAttributesKeepsSessions() throws Exception {
    Browser browser = new Browser();
    String attributes =
        databaseAttributes()
            + " table=\"shop_sessions\" allowedPackages=\"io.pgsession.tomcat\""
            + " touchFraction=\"0.5\" reaperInterval=\"PT1H\" maxSessionBytes=\"65536\""
            + " readCacheBytes=\"0\"";

    String value;
    try (Webapp first = new Webapp(attributes)) {
      assertThat(first.context.getManager()).isInstanceOf(PgSessionManager.class);
      browser.get(first, "/shop/set?name=cart&value=3");
    }
    try (Webapp second = new Webapp(attributes)) {
      value = browser.get(second, "/shop/get?name=cart");
    }

    assertThat(value).isEqualTo("3");
    assertThat(browser.cookie("JSESSIONID")).isNotNull();
  }

  @Test
  void badAttributeStopsTheContextFromStartingWithAMessageNamingIt() throws Exception {
    String attributes = databaseAttributes() + " touchFraction=\"lots\"";

    try (Webapp app = new Webapp(attributes)) {
      assertThat(app.context.getState()).isNotEqualTo(LifecycleState.STARTED);
      assertThat(((PgSessionManager) app.context.getManager()).getState())
          .isNotEqualTo(LifecycleState.STARTED);
    }
    StoreOptions options = new StoreOptions();
    options.set("touchFraction", "lots");
    assertThatThrownBy(options::buildConfig)
        .hasMessageContaining("touchFraction")
        .hasMessageContaining("lots");
  }

  @ParameterizedTest
  @CsvSource({
    "maxPoolSize=\"2\", maxPoolSize=\"ten\"",
    "maxPoolSize=\"2\", maxPoolSize=\"0\"",
    "connectionTimeout=\"3\", connectionTimeout=\"soon\""
  })
  void badConnectionAttributeStopsTheContextFromStarting(String good, String bad) throws Exception {
    String attributes = databaseAttributes().replace(good, bad);

    try (Webapp app = new Webapp(attributes)) {
      assertThat(app.context.getState()).isNotEqualTo(LifecycleState.STARTED);
    }
  }

  @Test
  void badConnectionSettingsAreNamedWithTheirValue() {
    StoreOptions options = new StoreOptions();
    options.maxPoolSize("ten");
    assertThatThrownBy(options::buildConfig)
        .hasMessageContaining("setting maxPoolSize = 'ten' must be a whole number");

    StoreOptions later = new StoreOptions();
    later.connectionTimeout("soon");
    assertThatThrownBy(later::buildConfig)
        .hasMessageContaining("setting connectionTimeout = 'soon'");
  }

  /**
   * An attribute name pgsession does not have (a slip of case or spelling: maxPoolsize, passwd,
   * reaperIntervall) would be dropped by Tomcat's digester with at most a warning, and the manager
   * would start with the default. Like a misspelt value, it stops the start.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {"maxPoolsize=\"2\"", "reaperIntervall=\"PT1M\"", "allowedPackage=\"com.shop\""})
  void aMisspeltAttributeStopsTheStart(String misspelt) throws Exception {
    try (Webapp app = new Webapp(databaseAttributes() + " " + misspelt)) {
      assertThat(app.context.getState()).isNotEqualTo(LifecycleState.STARTED);
    }
  }

  /**
   * README: "Passwords never appear in logs". A password attribute with a slip in its name (passwd,
   * Password) would be logged by Tomcat with its value ("failed to set property [passwd] to
   * [...]"); pgsession takes unknown attributes itself (setProperty) and keeps the value out.
   */
  @Test
  void aPasswordUnderAMisspeltNameNeverReachesTheLog() throws Exception {
    String secret = "typo-secret-4711";
    List<String> logged = new ArrayList<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            logged.add(String.valueOf(record.getMessage()));
            if (record.getParameters() != null) {
              for (Object p : record.getParameters()) {
                logged.add(String.valueOf(p));
              }
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger root = Logger.getLogger("");
    root.addHandler(capture);
    try (Webapp app = new Webapp(databaseAttributes() + " passwd=\"" + secret + "\"")) {
      assertThat(app.context.getManager()).isInstanceOf(PgSessionManager.class);
    } finally {
      root.removeHandler(capture);
    }

    assertThat(String.join("\n", logged)).doesNotContain(secret);
  }

  /**
   * connectionTimeout="Infinity" would leave a pool that never connects (the driver cannot read the
   * connectTimeout it is given), each request waiting for ever; it is refused.
   */
  @ParameterizedTest
  @ValueSource(strings = {"Infinity", "1e10"})
  void anEndlessConnectionTimeoutIsRefusedNamingIt(String timeout) {
    StoreOptions options = new StoreOptions();
    options.connectionTimeout(timeout);

    assertThatThrownBy(options::buildConfig)
        .hasMessageContaining("setting connectionTimeout = '" + timeout + "'");
  }
}
