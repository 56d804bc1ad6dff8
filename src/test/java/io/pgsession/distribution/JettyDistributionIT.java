package io.pgsession.distribution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The official Jetty 12 distribution ({@code jetty-home} tar.gz): each server is a fresh jetty base
 * set up with {@code start.jar --add-modules=http,ee10-deploy,pgsession}, the bundle in {@code
 * lib/pgsession}, and properties in {@code start.d/pgsession.ini}.
 */
class JettyDistributionIT extends DistributionScenario {
  static final String VERSION = System.getProperty("jetty.distribution.version", "12.1.12");
  private static final Path MODULE = Path.of("src", "main", "jetty");

  @Override
  protected String instanceName() {
    return "jetty-" + VERSION;
  }

  @Override
  protected ServerProcess newServer(String name, Path war, Path base) {
    Path home = unpacked("jetty-home-" + VERSION + ".tar.gz", "jetty-home-" + VERSION);
    int port = freePort();
    try {
      copy(MODULE.resolve("modules/pgsession.mod"), base.resolve("modules/pgsession.mod"));
      copy(
          MODULE.resolve("etc/pgsession-session-store.xml"),
          base.resolve("etc/pgsession-session-store.xml"));
      copy(bundle(), base.resolve("lib/pgsession").resolve(bundle().getFileName()));
      run(
          List.of(
              java(),
              "-jar",
              home.resolve("start.jar").toString(),
              "--add-modules=http,ee10-deploy,pgsession"),
          base,
          Duration.ofMinutes(2));
      Files.writeString(
          base.resolve("start.d/pgsession.ini"),
          String.join(
              "\n",
              "",
              "jetty.http.host=127.0.0.1",
              "jetty.http.port=" + port,
              "jetty.sessionIdManager.workerName=node" + name,
              "jetty.sessionScavengeInterval.seconds=1",
              "jetty.session.gracePeriod.seconds=1",
              "jetty.session.pgsession.jdbcUrl=" + pg.jdbcUrl(),
              "jetty.session.pgsession.user=" + pg.server().user(),
              "jetty.session.pgsession.password=" + pg.server().password(),
              ""),
          StandardOpenOption.APPEND);
      copy(war, base.resolve("webapps/counter.war"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new ServerProcess(
        "jetty " + name,
        List.of(java(), "-jar", home.resolve("start.jar").toString()),
        base,
        Map.of(),
        base.resolve("server.log"),
        port);
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to.getParent());
    Files.copy(from, to);
  }
}
