package io.pgsession.distribution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * An official Tomcat distribution ({@code org.apache.tomcat:tomcat} tar.gz): each server is a fresh
 * {@code CATALINA_BASE} whose {@code conf/context.xml} names {@code PgSessionManager}, with the
 * bundle, slf4j-api and slf4j-jdk14 (logging through JULI) in {@code lib}.
 */
abstract class TomcatDistribution extends DistributionScenario {
  protected abstract String version();

  @Override
  protected String instanceName() {
    return "tomcat-" + version();
  }

  @Override
  protected ServerProcess newServer(String name, Path war, Path base) {
    Path home = unpacked("tomcat-" + version() + ".tar.gz", "apache-tomcat-" + version());
    int port = freePort();
    try {
      for (String dir : List.of("conf", "lib", "logs", "temp", "webapps", "work")) {
        Files.createDirectories(base.resolve(dir));
      }
      try (Stream<Path> conf = Files.list(home.resolve("conf"))) {
        for (Path file : conf.filter(Files::isRegularFile).toList()) {
          Files.copy(file, base.resolve("conf").resolve(file.getFileName()));
        }
      }
      serverXml(base.resolve("conf/server.xml"), port);
      contextXml(base.resolve("conf/context.xml"));
      for (Path jar : List.of(bundle(), slf4j("slf4j-api"), slf4j("slf4j-jdk14"))) {
        Files.copy(jar, base.resolve("lib").resolve(jar.getFileName()));
      }
      Files.copy(war, base.resolve("webapps/counter.war"), StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new ServerProcess(
        "tomcat " + version() + " " + name,
        List.of(home.resolve("bin/catalina.sh").toString(), "run"),
        base,
        Map.of(
            "CATALINA_HOME", home.toString(),
            "CATALINA_BASE", base.toString(),
            "JAVA_HOME", System.getProperty("java.home")),
        base.resolve("server.log"),
        port);
  }

  /** Closes the shutdown port and moves the HTTP connector to 127.0.0.1 and a free port. */
  private static void serverXml(Path file, int port) throws IOException {
    String xml = Files.readString(file, StandardCharsets.UTF_8);
    String changed =
        xml.replace("<Server port=\"8005\"", "<Server port=\"-1\"")
            .replace(
                "<Connector port=\"8080\"",
                "<Connector address=\"127.0.0.1\" port=\"" + port + "\"");
    if (changed.equals(xml) || !changed.contains("port=\"" + port + "\"")) {
      throw new IllegalStateException("unexpected server.xml in the Tomcat distribution");
    }
    Files.writeString(file, changed, StandardCharsets.UTF_8);
  }

  /** Names the manager for every web application, and expiry checks every second. */
  private static void contextXml(Path file) throws IOException {
    String manager =
        "    <Manager className=\"io.pgsession.tomcat.PgSessionManager\""
            + " jdbcUrl=\""
            + xml(pg.jdbcUrl())
            + "\" user=\""
            + xml(pg.server().user())
            + "\" password=\""
            + xml(pg.server().password())
            + "\" processExpiresFrequency=\"1\"/>\n";
    String xml = Files.readString(file, StandardCharsets.UTF_8);
    String changed =
        xml.replace("<Context>", "<Context backgroundProcessorDelay=\"1\">")
            .replace("</Context>", manager + "</Context>");
    Files.writeString(file, changed, StandardCharsets.UTF_8);
  }

  private static Path slf4j(String artifact) {
    try (Stream<Path> files = Files.list(DIST)) {
      return files
          .filter(p -> p.getFileName().toString().matches(artifact + "-[0-9.]+\\.jar"))
          .findFirst()
          .orElseThrow(
              () ->
                  new IllegalStateException(
                      artifact + " is missing from " + DIST + ": run mvn verify -Pdistributions"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String xml(String text) {
    return text.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;");
  }
}
