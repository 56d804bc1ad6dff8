package io.pgsession.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * A pgbouncer (the Debian package's binary) in transaction pooling mode on 127.0.0.1, in front of
 * the test run's PostgreSQL, started as a child process with a generated configuration.
 *
 * <p>pgbouncer refuses to run as root, so under root it is started with {@code -u nobody}, and its
 * files are made readable by everyone.
 */
public final class Pgbouncer implements AutoCloseable {
  /**
   * What pgjdbc needs behind pgbouncer's transaction pooling: no named server-side prepared
   * statements, since consecutive transactions may run on different server connections.
   */
  public static final String JDBC_PARAMETERS = "prepareThreshold=0";

  private static final List<String> CANDIDATES =
      List.of("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private final Process process;
  private final Path dir;
  private final int port;

  private Pgbouncer(Process process, Path dir, int port) {
    this.process = process;
    this.dir = dir;
    this.port = port;
  }

  /** Whether a pgbouncer binary is installed. */
  public static boolean isInstalled() {
    return binary() != null;
  }

  /**
   * Skips the calling test, with the reason, when no pgbouncer binary is installed. Call it from a
   * test or {@code @BeforeEach}: Surefire does not report tests skipped from {@code @BeforeAll}.
   */
  public static void assumeInstalled() {
    Assumptions.assumeTrue(
        isInstalled(),
        "pgbouncer is not installed (Debian: apt-get install -y pgbouncer); the tests through"
            + " pgbouncer are skipped. CI installs it.");
  }

  /** Starts pgbouncer in front of {@code server}; every database name passes through. */
  public static Pgbouncer start(PostgresServer server) {
    String binary = binary();
    if (binary == null) {
      throw new IllegalStateException("pgbouncer is not installed");
    }
    URI target = URI.create(server.baseUrl().substring("jdbc:".length()));
    try {
      Path dir = Files.createTempDirectory("pgsession-pgbouncer");
      int port = freePort();
      Path ini = writeConfig(dir, target, port, server.user(), server.password());
      List<String> command = new ArrayList<>(List.of(binary));
      if ("root".equals(System.getProperty("user.name"))) {
        command.addAll(List.of("-u", "nobody"));
      }
      command.add(ini.toString());
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("pgbouncer.out").toFile())
              .start();
      Pgbouncer bouncer = new Pgbouncer(process, dir, port);
      bouncer.awaitListening();
      return bouncer;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start pgbouncer", e);
    }
  }

  private static Path writeConfig(Path dir, URI target, int port, String user, String password)
      throws IOException {
    Path users = dir.resolve("userlist.txt");
    Files.writeString(users, quote(user) + " " + quote(password) + "\n", StandardCharsets.UTF_8);
    String ini =
        String.join(
            "\n",
            "[databases]",
            "* = host=" + target.getHost() + " port=" + target.getPort(),
            "",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            "listen_port = " + port,
            "unix_socket_dir =",
            "auth_type = trust",
            "auth_file = " + users,
            "pool_mode = transaction",
            "max_client_conn = 200",
            "default_pool_size = 8",
            // pgjdbc sends extra_float_digits at connect, which pgbouncer does not track.
            "ignore_startup_parameters = extra_float_digits",
            "server_reset_query =",
            "");
    Path file = dir.resolve("pgbouncer.ini");
    Files.writeString(file, ini, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-r--r--"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    return file;
  }

  private void awaitListening() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("pgbouncer exited at start: " + output());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        pause();
      }
    }
    close();
    throw new IllegalStateException("pgbouncer did not listen in time: " + output());
  }

  /** A JDBC URL for {@code database} through pgbouncer, with {@link #JDBC_PARAMETERS}. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?" + JDBC_PARAMETERS;
  }

  /** The same database as {@code directUrl} (a URL of the test server), through pgbouncer. */
  public String jdbcUrlFor(String directUrl) {
    String path = URI.create(directUrl.substring("jdbc:".length())).getPath();
    return jdbcUrl(path.substring(1));
  }

  /** What pgbouncer printed so far. */
  public String output() {
    try {
      return Files.readString(dir.resolve("pgbouncer.out"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no output: " + e + ")";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory; nothing depends on its removal
    }
  }

  private static @Nullable String binary() {
    String path = System.getenv("PATH");
    List<String> candidates = new ArrayList<>();
    if (path != null) {
      for (String d : path.split(":")) {
        candidates.add(Path.of(d, "pgbouncer").toString());
      }
    }
    candidates.addAll(CANDIDATES);
    return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst().orElse(null);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String quote(String s) {
    return '"' + s.replace("\"", "\"\"") + '"';
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
