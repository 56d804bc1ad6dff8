package io.pgsession.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsession.testing.PostgresExtension;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bundle jar for standalone servers ({@code pgsession-<version>-bundle.jar}), as a server's
 * shared class loader sees it: alone with slf4j-api, without the test class path.
 */
class BundleIT {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  private URLClassLoader server;
  private ClassLoader previousContextLoader;

  @BeforeEach
  void loadTheBundleInItsOwnClassLoader() throws Exception {
    URL slf4j = org.slf4j.Logger.class.getProtectionDomain().getCodeSource().getLocation();
    server =
        new URLClassLoader(
            new URL[] {bundle().toUri().toURL(), slf4j}, ClassLoader.getPlatformClassLoader());
    previousContextLoader = Thread.currentThread().getContextClassLoader();
    Thread.currentThread().setContextClassLoader(server);
  }

  @AfterEach
  void close() throws IOException {
    Thread.currentThread().setContextClassLoader(previousContextLoader);
    server.close();
  }

  @Test
  void everyClassInTheBundleIsUnderIoPgsession() throws IOException {
    List<String> foreign = new ArrayList<>();
    try (JarFile jar = new JarFile(bundle().toFile())) {
      for (JarEntry e : Collections.list(jar.entries())) {
        if (e.getName().endsWith(".class") && !e.getName().startsWith("io/pgsession/")) {
          foreign.add(e.getName());
        }
      }
    }

    assertThat(foreign).isEmpty();
  }

  @Test
  void serviceFilesNameOnlyRelocatedClassesAndNoDriverIsRegistered() throws IOException {
    Map<String, String> services = new LinkedHashMap<>();
    try (JarFile jar = new JarFile(bundle().toFile())) {
      for (JarEntry e : Collections.list(jar.entries())) {
        if (e.getName().startsWith("META-INF/services/") && !e.isDirectory()) {
          services.put(
              e.getName(),
              new String(jar.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8));
        }
      }
    }

    assertThat(services).isNotEmpty().doesNotContainKey("META-INF/services/java.sql.Driver");
    services.forEach(
        (name, text) -> {
          assertThat(name).startsWith("META-INF/services/io.pgsession.shaded.");
          text.lines()
              .filter(l -> !l.isBlank() && !l.startsWith("#"))
              .forEach(l -> assertThat(l.strip()).startsWith("io.pgsession.shaded."));
        });
  }

  @Test
  void theOriginalLibrariesAreNotVisibleFromTheBundle() {
    assertThatThrownBy(() -> server.loadClass("org.postgresql.Driver"))
        .isInstanceOf(ClassNotFoundException.class);
    assertThatThrownBy(() -> server.loadClass("com.fasterxml.jackson.databind.ObjectMapper"))
        .isInstanceOf(ClassNotFoundException.class);
    assertThatThrownBy(() -> server.loadClass("com.zaxxer.hikari.HikariDataSource"))
        .isInstanceOf(ClassNotFoundException.class);
  }

  @Test
  void relocatedDriverLoadedByClassNameConnects() throws Exception {
    Driver driver =
        (Driver)
            server
                .loadClass("io.pgsession.shaded.postgresql.Driver")
                .getDeclaredConstructor()
                .newInstance();
    Properties login = new Properties();
    login.setProperty("user", pg.server().user());
    login.setProperty("password", pg.server().password());

    try (Connection c = driver.connect(pg.jdbcUrl(), login);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_database()")) {
      rs.next();

      assertThat(driver.acceptsURL(pg.jdbcUrl())).isTrue();
      assertThat(pg.jdbcUrl()).contains("/" + rs.getString(1));
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void bundleSavesAndLoadsASessionThroughItsOwnPool() throws Exception {
    Class<?> dataSources = server.loadClass("io.pgsession.PgDataSources");
    Class<?> settingsType = server.loadClass("io.pgsession.PgDataSources$Settings");
    Class<?> configType = server.loadClass("io.pgsession.PgSessionConfig");
    Class<?> storeType = server.loadClass("io.pgsession.PgSessionStore");
    Class<?> recordType = server.loadClass("io.pgsession.SessionRecord");
    Object settings =
        dataSources
            .getMethod("parse", String.class, String.class, String.class)
            .invoke(null, pg.jdbcUrl(), pg.server().user(), pg.server().password());
    DataSource pool =
        (DataSource)
            dataSources
                .getMethod("create", settingsType, String.class)
                .invoke(null, settings, "bundle");
    Object store =
        storeType
            .getConstructor(DataSource.class, configType, ClassLoader.class)
            .newInstance(pool, configType.getMethod("defaults").invoke(null), server);
    Object record =
        recordType
            .getConstructor(String.class, long.class, int.class)
            .newInstance("bundle-session", System.currentTimeMillis(), 1800);
    Map<String, Object> attributes =
        (Map<String, Object>) recordType.getMethod("attributes").invoke(record);
    attributes.put("user", "ann");
    attributes.put("visits", 7L);
    attributes.put("since", LocalDate.of(2026, 12, 4));
    attributes.put("tags", new ArrayList<>(List.of("a", "b")));

    try {
      storeType.getMethod("save", recordType).invoke(store, record);
      Object loaded = storeType.getMethod("load", String.class).invoke(store, "bundle-session");

      assertThat(pool.getClass().getName()).startsWith("io.pgsession.shaded.hikari.");
      assertThat((Map<String, Object>) recordType.getMethod("attributes").invoke(loaded))
          .isEqualTo(attributes);
    } finally {
      ((AutoCloseable) pool).close();
    }
  }

  private static Path bundle() {
    String path = System.getProperty("pgsession.bundle");
    assertThat(path)
        .as("system property pgsession.bundle (set by the failsafe plugin)")
        .isNotNull();
    Path jar = Path.of(path);
    assertThat(Files.isRegularFile(jar)).as(jar + " exists; run mvn verify").isTrue();
    return jar;
  }
}
