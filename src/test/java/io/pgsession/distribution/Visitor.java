package io.pgsession.distribution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** One user of the counter application: keeps its JSESSIONID cookie across servers. */
public final class Visitor {
  private static final Pattern BODY = Pattern.compile("visits=(\\d+) id=(\\S+)");
  private static final Pattern COOKIE = Pattern.compile("JSESSIONID=([^;]+)");
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private @Nullable String cookie;
  private @Nullable String sessionId;
  private String lastAnswer = "";

  /** Visits the counter on {@code server} and returns the session's visit count. */
  int visit(ServerProcess server, String path) {
    return visit(server.uri(path), server.name(), server::output);
  }

  /** Visits the counter at {@code uri} and returns the session's visit count. */
  public int visit(URI uri) {
    return visit(uri, uri.toString(), () -> "");
  }

  /** Uses this session id from now on, as a browser given the cookie would. */
  public Visitor cookie(String sessionId) {
    this.cookie = sessionId;
    return this;
  }

  /** The whole text of the last answer. */
  public String lastAnswer() {
    return lastAnswer;
  }

  private int visit(URI uri, String server, Supplier<String> serverOutput) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).GET();
    if (cookie != null) {
      b.header("Cookie", "JSESSIONID=" + cookie);
    }
    try {
      HttpResponse<String> response = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AssertionError(
            server + " answered " + response.statusCode() + ":\n" + serverOutput.get());
      }
      response
          .headers()
          .allValues("Set-Cookie")
          .forEach(
              h -> {
                Matcher m = COOKIE.matcher(h);
                if (m.find()) {
                  cookie = m.group(1);
                }
              });
      lastAnswer = response.body();
      Matcher m = BODY.matcher(response.body());
      if (!m.find()) {
        throw new AssertionError("unexpected answer from " + server + ": " + response.body());
      }
      sessionId = m.group(2);
      return Integer.parseInt(m.group(1));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The session id the application reported last. */
  public String sessionId() {
    if (sessionId == null) {
      throw new IllegalStateException("no visit yet");
    }
    return sessionId;
  }
}
