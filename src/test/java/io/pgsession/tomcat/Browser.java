package io.pgsession.tomcat;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A client with one cookie jar that can send each request to any node, as a load balancer without
 * stickiness would. Follows no redirects; cookies are kept by name only, which is enough for one
 * web application.
 */
final class Browser {
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();

  private final Map<String, String> cookies = new LinkedHashMap<>();
  private @Nullable String authorization;

  record Answer(int status, String body, @Nullable String location) {}

  /** A server a browser can send requests to. */
  interface Target {
    String url(String path);
  }

  /** GETs {@code path} (with its query) from {@code node}; returns the body of a 200. */
  String get(Target node, String path) {
    Answer a = send(node, path, null);
    if (a.status() != 200) {
      throw new AssertionError("GET " + path + " answered " + a.status() + ": " + a.body());
    }
    return a.body();
  }

  Answer send(Target node, String path, @Nullable Map<String, String> form) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(node.url(path))).timeout(Duration.ofSeconds(10));
    if (!cookies.isEmpty()) {
      StringBuilder header = new StringBuilder();
      cookies.forEach(
          (k, v) ->
              header.append(header.length() == 0 ? "" : "; ").append(k).append('=').append(v));
      request.header("Cookie", header.toString());
    }
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    if (form != null) {
      StringBuilder body = new StringBuilder();
      form.forEach(
          (k, v) ->
              body.append(body.length() == 0 ? "" : "&")
                  .append(k)
                  .append('=')
                  .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
      request
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    }
    try {
      HttpResponse<String> response =
          HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
      keepCookies(response.headers().allValues("Set-Cookie"));
      return new Answer(
          response.statusCode(),
          response.body(),
          response.headers().firstValue("Location").orElse(null));
    } catch (IOException e) {
      throw new AssertionError("request to " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private void keepCookies(List<String> setCookies) {
    for (String header : setCookies) {
      String pair = header.split(";", 2)[0];
      int eq = pair.indexOf('=');
      if (eq > 0) {
        boolean expired = header.toLowerCase().contains("max-age=0");
        String name = pair.substring(0, eq).strip();
        if (expired) {
          cookies.remove(name);
        } else {
          cookies.put(name, pair.substring(eq + 1).strip());
        }
      }
    }
  }

  @Nullable String cookie(String name) {
    return cookies.get(name);
  }

  /** Sets a cookie as a client that forges it would. */
  void cookie(String name, String value) {
    cookies.put(name, value);
  }

  void basicAuth(@Nullable String user, String password) {
    authorization =
        user == null
            ? null
            : "Basic "
                + Base64.getEncoder()
                    .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
