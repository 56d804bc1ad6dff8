package io.pgsession.reliability;

import io.pgsession.PgDataSources;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * An embedded PostgreSQL of a test's own, on a fixed loopback port and data directory, so that the
 * test can stop it and start it again as the same server with the same data. Not thread-safe: one
 * test thread starts and stops it.
 */
final class RestartablePostgres implements AutoCloseable {
  static final String USER = "postgres";

  private final int port;
  private final Path dataDirectory;
  private final Consumer<File> customizer;
  private EmbeddedPostgres server;

  private RestartablePostgres(int port, Path dataDirectory, Consumer<File> customizer) {
    this.port = port;
    this.dataDirectory = dataDirectory;
    this.customizer = customizer;
  }

  /** Starts a new server with a fresh data directory under {@code target/}. */
  static RestartablePostgres start(String name) {
    return start(name, dir -> {});
  }

  /** As {@link #start(String)}, letting the caller edit the data directory after initdb. */
  static RestartablePostgres start(String name, Consumer<File> customizer) {
    Path dir = Path.of("target", "reliability-pg", name + "-" + System.nanoTime()).toAbsolutePath();
    RestartablePostgres pg = new RestartablePostgres(freePort(), dir, customizer);
    pg.start();
    return pg;
  }

  /** A loopback port that nothing listens on at the moment of the call. */
  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts the server on its port and data directory; it must be stopped. */
  void start() {
    try {
      Files.createDirectories(dataDirectory.getParent());
      server =
          EmbeddedPostgres.builder()
              .setPort(port)
              .setDataDirectory(dataDirectory)
              .setCleanDataDirectory(false)
              .setDataDirectoryCustomizer(customizer)
              .setPGStartupWait(Duration.ofSeconds(30))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start PostgreSQL on port " + port, e);
    }
  }

  /** Stops the server (fast shutdown: sessions are terminated); the data directory stays. */
  void stop() {
    try {
      server.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stop PostgreSQL on port " + port, e);
    } finally {
      server = null;
    }
  }

  boolean isRunning() {
    return server != null;
  }

  int port() {
    return port;
  }

  String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
  }

  /** Pool settings for this server as its superuser, with the given pool size and timeout. */
  PgDataSources.Settings settings(int poolSize, Duration connectionTimeout) {
    return PgDataSources.parse(jdbcUrl(), USER, "unused").withPool(poolSize, connectionTimeout);
  }

  @Override
  public void close() {
    if (server != null) {
      stop();
    }
  }
}
