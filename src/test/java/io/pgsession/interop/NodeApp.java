package io.pgsession.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
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
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * The Express application of {@code src/test/node} (express-session with connect-pg-simple), run as
 * a child process on 127.0.0.1 and driven over HTTP.
 *
 * <p>Its dependencies are installed with {@code npm ci} from the committed lock file when {@code
 * node_modules} is missing. Sessions are addressed by id: the cookie for an id is signed here the
 * way express-session signs it, so a row written by Java can be requested by its id.
 */
final class NodeApp implements AutoCloseable {
  static final Path DIR = Path.of("src", "test", "node");
  static final String SECRET = "pgsession interop secret";
  private static final String COOKIE = "connect.sid";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);
  private static final Pattern LISTENING = Pattern.compile("listening on (\\d+)");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger RUNS = new AtomicInteger();
  private static @Nullable Boolean nodeAvailable;

  private final Process process;
  private final Path log;
  private final URI base;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private NodeApp(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.base = URI.create("http://127.0.0.1:" + port);
  }

  /** Whether node can be run. */
  static synchronized boolean nodeAvailable() {
    if (nodeAvailable == null) {
      nodeAvailable = run(List.of("node", "--version"), Duration.ofSeconds(20)).succeeded();
    }
    return nodeAvailable;
  }

  /**
   * Skips the calling test, with the reason, when node or npm cannot be run. Call it from a test or
   * {@code @BeforeEach}: Surefire does not report tests skipped from {@code @BeforeAll}.
   */
  static void assumeNodeAvailable() {
    Assumptions.assumeTrue(
        nodeAvailable(),
        "node is not on the PATH: the tests sharing the session table with connect-pg-simple need"
            + " Node.js 18 or later and npm (CI installs them)");
    Assumptions.assumeTrue(
        Files.isDirectory(DIR.resolve("node_modules").resolve("connect-pg-simple"))
            || run(List.of("npm", "--version"), Duration.ofSeconds(20)).succeeded(),
        "npm is not on the PATH: it installs express-session and connect-pg-simple for the tests"
            + " sharing the session table with Node");
  }

  /** Runs {@code npm ci} in {@link #DIR} unless its dependencies are installed already. */
  static synchronized void installDependencies() {
    if (Files.isDirectory(DIR.resolve("node_modules").resolve("connect-pg-simple"))) {
      return;
    }
    List<String> command = List.of("npm", "ci", "--no-audit", "--no-fund");
    CommandResult result = run(command, INSTALL_TIMEOUT);
    if (!result.succeeded()
        || !Files.isDirectory(DIR.resolve("node_modules").resolve("connect-pg-simple"))) {
      throw new IllegalStateException(
          "'npm ci' in "
              + DIR
              + " failed (exit "
              + result.exit()
              + "); the npm registry must be reachable, or node_modules installed:\n"
              + result.output());
    }
  }

  /**
   * Starts the application against {@code database} on the server of {@code jdbcUrl}, with the
   * process time zone {@code tz}; waits until it listens.
   */
  static NodeApp start(String jdbcUrl, String user, String password, String tz) {
    URI db = URI.create(jdbcUrl.substring("jdbc:".length()));
    Path log = Path.of("target", "node-app-" + RUNS.incrementAndGet() + ".log").toAbsolutePath();
    ProcessBuilder pb =
        new ProcessBuilder("node", "server.js")
            .directory(DIR.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("PGHOST", db.getHost());
    env.put("PGPORT", String.valueOf(db.getPort() < 0 ? 5432 : db.getPort()));
    env.put("PGDATABASE", db.getPath().substring(1));
    env.put("PGUSER", user);
    env.put("PGPASSWORD", password);
    env.put("SESSION_SECRET", SECRET);
    env.put("TZ", tz);
    Process process;
    try {
      Files.createDirectories(log.getParent());
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node", e);
    }
    return new NodeApp(process, log, awaitPort(process, log));
  }

  private static int awaitPort(Process process, Path log) {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      Matcher m = LISTENING.matcher(read(log));
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("the node application exited at start: " + read(log));
      }
      pause(50);
    }
    process.destroyForcibly();
    throw new IllegalStateException("the node application did not start in time: " + read(log));
  }

  /** Everything the application printed so far. */
  String output() {
    return read(log);
  }

  private static String read(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** A new session holding {@code attributes}, its cookie lasting {@code maxAgeMillis}. */
  NodeSession create(Map<String, ?> attributes, long maxAgeMillis) {
    return post("/session", null, attributes, maxAgeMillis);
  }

  /** Sets attributes on the session with this id, as a request of its user would. */
  NodeSession update(String sid, Map<String, ?> attributes) {
    return post("/session", sid, attributes, null);
  }

  /**
   * The session express-session loads for this id, or {@code null} when it found none (it then
   * starts a new, unsaved session with another id).
   */
  @Nullable NodeSession find(String sid) {
    NodeSession s = send(request("/session", sid).GET().build());
    return s.sid().equals(sid) ? s : null;
  }

  /** Runs connect-pg-simple's pruning once. */
  void prune() {
    sendForJson(request("/prune", null).POST(HttpRequest.BodyPublishers.noBody()).build());
  }

  /**
   * The row's {@code expire} as the application's connections read it, in epoch milliseconds, or
   * {@code null} when there is no row.
   */
  @Nullable Long expireMillis(String sid) {
    JsonNode body = sendForJson(request("/expire/" + sid, null).GET().build());
    return body.path("millis").isNumber() ? Math.round(body.get("millis").asDouble()) : null;
  }

  private NodeSession post(
      String path, @Nullable String sid, Map<String, ?> attributes, @Nullable Long maxAge) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("set", attributes);
    if (maxAge != null) {
      body.put("maxAge", maxAge);
    }
    try {
      String json = JSON.writeValueAsString(body);
      return send(
          request(path, sid)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(json))
              .build());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private HttpRequest.Builder request(String path, @Nullable String sid) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
    if (sid != null) {
      b.header("Cookie", COOKIE + "=" + signedCookieValue(sid));
    }
    return b;
  }

  private NodeSession send(HttpRequest request) {
    JsonNode body = sendForJson(request);
    return new NodeSession(
        body.get("sid").asText(),
        body.path("expires").isTextual() ? body.get("expires").asText() : null,
        body.get("originalMaxAge").asLong(),
        body.get("attributes"));
  }

  private JsonNode sendForJson(HttpRequest request) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            request.method()
                + " "
                + request.uri()
                + " answered "
                + response.statusCode()
                + ": "
                + response.body()
                + "\nnode output:\n"
                + output());
      }
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The cookie value express-session expects for {@code sid}: {@code s:<sid>.<HMAC-SHA256>}. */
  static String signedCookieValue(String sid) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal(sid.getBytes(StandardCharsets.UTF_8));
      return "s:" + sid + "." + Base64.getEncoder().withoutPadding().encodeToString(digest);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
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
  }

  /** Runs a command in {@link #DIR}, waiting at most {@code timeout}. */
  private static CommandResult run(List<String> command, Duration timeout) {
    try {
      File out = File.createTempFile("pgsession-node", ".log");
      try {
        Process p =
            new ProcessBuilder(new ArrayList<>(command))
                .directory(DIR.toFile())
                .redirectErrorStream(true)
                .redirectOutput(out)
                .start();
        boolean ended = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!ended) {
          p.destroyForcibly();
        }
        String text = Files.readString(out.toPath(), StandardCharsets.UTF_8).strip();
        return new CommandResult(ended ? p.exitValue() : -1, ended ? text : "timed out: " + text);
      } finally {
        Files.deleteIfExists(out.toPath());
      }
    } catch (IOException e) {
      return new CommandResult(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new CommandResult(-1, e.toString());
    }
  }

  private record CommandResult(int exit, String output) {
    boolean succeeded() {
      return exit == 0;
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A session as the Node application answered it. */
  record NodeSession(
      String sid, @Nullable String expires, long originalMaxAge, JsonNode attributes) {}
}
