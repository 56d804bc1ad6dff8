package io.pgsession.jetty;

import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A client that keeps cookies as a browser does. Cookies do not depend on the port, so one browser
 * sends its session cookie to every node on 127.0.0.1.
 */
final class Browser {
  private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
  private final HttpClient client =
      HttpClient.newBuilder().cookieHandler(cookies).connectTimeout(Duration.ofSeconds(5)).build();

  String get(URI uri) {
    return send(client, HttpRequest.newBuilder(uri));
  }

  /** A request with exactly this session cookie, whatever this browser holds. */
  static String getWithSessionId(URI uri, String sessionId) {
    HttpClient bare = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    return send(bare, HttpRequest.newBuilder(uri).header("Cookie", "JSESSIONID=" + sessionId));
  }

  private static String send(HttpClient client, HttpRequest.Builder request) {
    try {
      HttpResponse<String> response =
          client.send(
              request.timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AssertionError("HTTP " + response.statusCode() + ": " + response.body());
      }
      return response.body();
    } catch (IOException e) {
      throw new AssertionError("request failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
