package io.pgsession.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The counter war deployed to two servers of one official distribution, each a child process on
 * 127.0.0.1, both keeping sessions in one database through pgsession's bundle. A subclass says how
 * to lay out and start a server of its distribution.
 *
 * <p>Needs the artifacts that {@code mvn verify -Pdistributions} copies into {@code target/dist}.
 */
@Tag("distribution")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DistributionScenario {
  @RegisterExtension static final PostgresExtension pg = new PostgresExtension();

  static final Path DIST = Path.of(System.getProperty("pgsession.dist", "target/dist"));
  static final String CONTEXT = "/counter";
  private static final Pattern DESTROYED =
      Pattern.compile("pgsession-test destroyed (\\S+) visits=(\\S+)");

  private ServerProcess first;
  private ServerProcess second;

  /** Lays out a fresh server instance named {@code name} serving the war, not yet started. */
  protected abstract ServerProcess newServer(String name, Path war, Path instanceDir);

  @BeforeAll
  void startBothServers() {
    Path war = TestWar.write(DIST.resolve("counter.war"));
    first = newServer("a", war, freshDirectory(instanceName() + "-a"));
    second = newServer("b", war, freshDirectory(instanceName() + "-b"));
    first.start(CONTEXT + "/");
    second.start(CONTEXT + "/");
  }

  @AfterAll
  void stopBothServers() {
    if (first != null) {
      first.stop();
    }
    if (second != null) {
      second.stop();
    }
  }

  /** A short name of the distribution, for directories. */
  protected abstract String instanceName();

  @Test
  void bothServersServeTheSameSession() {
    Visitor visitor = new Visitor();

    int onFirst = visitor.visit(first, CONTEXT + "/");
    int onSecond = visitor.visit(second, CONTEXT + "/");
    int backOnFirst = visitor.visit(first, CONTEXT + "/");

    assertThat(List.of(onFirst, onSecond, backOnFirst)).containsExactly(1, 2, 3);
  }

  @Test
  void sessionSurvivesARestartOfBothServers() {
    Visitor visitor = new Visitor();
    visitor.visit(first, CONTEXT + "/");
    visitor.visit(second, CONTEXT + "/");

    first.stop();
    second.stop();
    first.start(CONTEXT + "/");
    second.start(CONTEXT + "/");

    assertThat(visitor.visit(second, CONTEXT + "/")).isEqualTo(3);
    assertThat(visitor.visit(first, CONTEXT + "/")).isEqualTo(4);
  }

  @Test
  void expiredSessionIsDestroyedOnceWithItsListenerSeeingItsAttributes() throws SQLException {
    Visitor visitor = new Visitor();
    visitor.visit(first, CONTEXT + "/");
    visitor.visit(second, CONTEXT + "/");
    String sid = CONTEXT + "/" + visitor.sessionId();

    int moved = expireInThePast(sid);
    ServerProcess.awaitTrue(
        () -> destroyedLines(visitor.sessionId()) > 0,
        Duration.ofSeconds(60),
        "no server fired sessionDestroyed for " + sid);
    pause();

    assertThat(moved).isEqualTo(1);
    assertThat(destroyedLines(visitor.sessionId())).isEqualTo(1);
    assertThat(first.output() + second.output())
        .contains("pgsession-test destroyed " + visitor.sessionId() + " visits=2");
    assertThat(rowCount(sid)).isZero();
  }

  /** Gives other servers' scavengers a moment, so that a second (wrong) firing would show. */
  private static void pause() {
    try {
      TimeUnit.SECONDS.sleep(3);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private long destroyedLines(String sessionId) {
    long count = 0;
    for (ServerProcess s : List.of(first, second)) {
      Matcher m = DESTROYED.matcher(s.output());
      while (m.find()) {
        if (m.group(1).equals(sessionId)) {
          count++;
        }
      }
    }
    return count;
  }

  private static int expireInThePast(String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE session SET expire = expire - interval '2 hours' WHERE sid = ?")) {
      ps.setString(1, sid);
      return ps.executeUpdate();
    }
  }

  private static long rowCount(String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM session WHERE sid = ?")) {
      ps.setString(1, sid);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  // ---------------------------------------------------------------- helpers for subclasses

  /** The bundle jar built by this project's package phase. */
  static Path bundle() {
    return requireFile(Path.of(System.getProperty("pgsession.bundle", "missing")));
  }

  static Path requireFile(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(
          file + " is missing: run the distribution tests with mvn verify -Pdistributions");
    }
    return file;
  }

  /** Unpacks a distribution's tar.gz from {@link #DIST} once and returns its top directory. */
  static Path unpacked(String archive, String topDirectory) {
    Path home = DIST.resolve(topDirectory);
    if (Files.isDirectory(home)) {
      return home.toAbsolutePath();
    }
    Path tarball = requireFile(DIST.resolve(archive));
    run(List.of("tar", "xzf", tarball.toAbsolutePath().toString()), DIST, Duration.ofMinutes(2));
    return home.toAbsolutePath();
  }

  static void run(List<String> command, Path dir, Duration timeout) {
    try {
      Path log = Files.createTempFile("pgsession-dist", ".log");
      Process p =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      boolean ended = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!ended) {
        p.destroyForcibly();
      }
      if (!ended || p.exitValue() != 0) {
        throw new IllegalStateException(command + " failed:\n" + Files.readString(log));
      }
      Files.deleteIfExists(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Path freshDirectory(String name) {
    Path dir = DIST.resolve(name).toAbsolutePath();
    try {
      if (Files.exists(dir)) {
        try (Stream<Path> files = Files.walk(dir)) {
          files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
