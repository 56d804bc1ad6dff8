package io.pgsession.distribution;

import io.pgsession.distribution.app.CounterServlet;
import io.pgsession.distribution.app.ExpiryLogger;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/** Builds {@code counter.war}: {@link CounterServlet} at {@code /*} and {@link ExpiryLogger}. */
final class TestWar {
  private static final String WEB_XML =
      """
      <?xml version="1.0" encoding="UTF-8"?>
      <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0"
               metadata-complete="true">
        <listener>
          <listener-class>io.pgsession.distribution.app.ExpiryLogger</listener-class>
        </listener>
        <servlet>
          <servlet-name>counter</servlet-name>
          <servlet-class>io.pgsession.distribution.app.CounterServlet</servlet-class>
        </servlet>
        <servlet-mapping>
          <servlet-name>counter</servlet-name>
          <url-pattern>/*</url-pattern>
        </servlet-mapping>
      </web-app>
      """;

  private TestWar() {}

  /** Writes the war to {@code target} and returns it. */
  static Path write(Path target) {
    try {
      Files.createDirectories(target.getParent());
      try (OutputStream out = Files.newOutputStream(target);
          JarOutputStream war = new JarOutputStream(out)) {
        add(war, "WEB-INF/web.xml", WEB_XML.getBytes(StandardCharsets.UTF_8));
        for (Class<?> c : List.of(CounterServlet.class, ExpiryLogger.class)) {
          String entry = c.getName().replace('.', '/') + ".class";
          add(war, "WEB-INF/classes/" + entry, classBytes(c));
        }
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] classBytes(Class<?> c) throws IOException {
    try {
      Path classes = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Files.readAllBytes(classes.resolve(c.getName().replace('.', '/') + ".class"));
    } catch (URISyntaxException e) {
      throw new IOException(e);
    }
  }

  private static void add(JarOutputStream war, String name, byte[] bytes) throws IOException {
    war.putNextEntry(new JarEntry(name));
    war.write(bytes);
    war.closeEntry();
  }
}
