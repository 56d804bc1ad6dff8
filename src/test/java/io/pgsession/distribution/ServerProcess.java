package io.pgsession.distribution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A server of an official distribution running as a child process on 127.0.0.1, its output kept in
 * a file. Stopping it sends SIGTERM, which both Jetty and Tomcat handle as an orderly shutdown.
 */
final class ServerProcess implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String name;
  private final List<String> command;
  private final Path dir;
  private final Map<String, String> env;
  private final Path log;
  private final int port;
  private Process process;

  ServerProcess(
      String name, List<String> command, Path dir, Map<String, String> env, Path log, int port) {
    this.name = name;
    this.command = List.copyOf(command);
    this.dir = dir;
    this.env = Map.copyOf(env);
    this.log = log;
    this.port = port;
  }

  /** Starts the server and waits until {@code readyPath} answers. */
  ServerProcess start(String readyPath) {
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
    awaitTrue(
        () -> {
          if (!process.isAlive()) {
            throw new IllegalStateException(name + " exited at start:\n" + output());
          }
          return answers(readyPath);
        },
        START_TIMEOUT,
        name + " did not answer " + readyPath + " in time");
    return this;
  }

  private boolean answers(String path) {
    try {
      HttpRequest request =
          HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(5)).GET().build();
      return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() < 500;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  String name() {
    return name;
  }

  /** Everything the server printed, over all its starts. */
  String output() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** Stops the server and waits for its process to end. */
  void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  @Override
  public void close() {
    stop();
  }

  static void awaitTrue(BooleanSupplier condition, Duration timeout, String failure) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError(failure);
  }
}
