package io.pgsession.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forged session cookies sent as raw bytes to a servlet container with pgsession: never a server
 * error, never a session under the forged id, and the other users' sessions and the table stay
 * intact. A container's test starts it with a servlet that answers {@code ?op=read} with "no
 * session" when there is none and {@code ?op=incr} with the session's visit count.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class HostileCookieContract {
  private static final Logger log = LoggerFactory.getLogger(HostileCookieContract.class);

  /** Larger than the request header limit of Jetty and Tomcat (8 KiB by default). */
  private static final int OVERSIZED = 16 * 1024;

  private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.1 (\\d{3})");
  private static final Pattern SET_COOKIE =
      Pattern.compile("(?mi)^Set-Cookie: JSESSIONID=([^;\\r\\n]*)");

  private int port;
  private String victim;

  /** Starts the container on 127.0.0.1 over this data source; returns its port. */
  abstract int start(DataSource dataSource) throws Exception;

  abstract void stop() throws Exception;

  abstract DataSource dataSource();

  /** The container's name for its session cookie. */
  String cookieName() {
    return "JSESSIONID";
  }

  @BeforeAll
  void containerWithOneUserSession() throws Exception {
    port = start(dataSource());
    Reply first = send(cookieHeader("none".getBytes(StandardCharsets.US_ASCII)), "incr");
    victim = first.sessionCookie();
    assertThat(victim).as("the first request's session cookie").isNotNull();
  }

  @AfterAll
  void stopContainer() throws Exception {
    stop();
  }

  Stream<Arguments> forgedCookies() {
    List<Arguments> cookies = new ArrayList<>();
    cookies.add(ascii("single quote", "a'b"));
    cookies.add(ascii("quoted", "\"quoted\\\"value\""));
    cookies.add(ascii("backslashes", "a\\b\\\\"));
    cookies.add(ascii("SQL fragment", "'; DROP TABLE session; --"));
    cookies.add(ascii("SQL tautology", "x' OR '1'='1"));
    cookies.add(ascii("percent NUL", "%00"));
    cookies.add(ascii("JSON", "{\"@t\":\"java.lang.Runtime\"}"));
    cookies.add(bytes("control characters", new byte[] {'a', 1, 0x1b, '[', 0x7f, 'b'}));
    cookies.add(bytes("tab", new byte[] {'a', '\t', 'b'}));
    cookies.add(bytes("NUL byte", new byte[] {'a', 0, 'b'}));
    cookies.add(
        bytes(
            "UTF-8 text",
            "s\u00e9ance-\u4f1a\u8bdd-\ud83d\ude42".getBytes(StandardCharsets.UTF_8)));
    cookies.add(
        bytes("encoded lone surrogate", new byte[] {'a', (byte) 0xed, (byte) 0xa0, (byte) 0x80}));
    cookies.add(bytes("invalid UTF-8", new byte[] {(byte) 0xff, (byte) 0xfe, 'x'}));
    cookies.add(ascii("2 KB", "k".repeat(2048)));
    cookies.add(ascii("7 KB", "k".repeat(7 * 1024)));
    cookies.add(ascii("100 KB", "x".repeat(100 * 1024)));
    cookies.add(ascii("empty", ""));
    cookies.add(ascii("the victim's id behind a quote", "'VICTIM"));
    cookies.add(ascii("SQL before the victim's id", "' OR ''='VICTIM"));
    return cookies.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("forgedCookies")
  void aForgedCookieGetsNoServerErrorAndNoSessionUnderItsId(String kind, byte[] cookie)
      throws Exception {
    byte[] value = replaceVictim(cookie);

    Reply read = send(cookieHeader(value), "read");
    Reply create = send(cookieHeader(value), "incr");
    log.info(
        "[figures] {} forged cookie {}: read {}, write {}",
        getClass().getSimpleName(),
        kind,
        read.status(),
        create.status());

    assertThat(read.status()).as("status of a read").isIn(accepted(value));
    assertThat(create.status()).as("status of a write").isIn(accepted(value));
    if (read.status() == 200) {
      assertThat(read.body()).isEqualTo("no session");
    }
    if (create.status() == 200) {
      assertThat(create.body()).isEqualTo("1");
      assertThat(create.sessionCookie())
          .isNotEqualTo(new String(value, StandardCharsets.ISO_8859_1));
    }
    assertThat(storedIds()).doesNotContain(new String(value, StandardCharsets.ISO_8859_1));
    assertThat(storedIds()).doesNotContain(new String(value, StandardCharsets.UTF_8));
    assertThat(victimVisits()).as("the victim's own session").isGreaterThan(1);
  }

  /**
   * The statuses a forged cookie may get. A header beyond any container's limit may also see the
   * connection closed before the request is written whole: the container refused it.
   */
  private static Integer[] accepted(byte[] value) {
    return value.length > OVERSIZED
        ? new Integer[] {200, 400, 431, Reply.REFUSED}
        : new Integer[] {200, 400, 431};
  }

  private byte[] replaceVictim(byte[] cookie) {
    String text = new String(cookie, StandardCharsets.ISO_8859_1);
    return text.replace("VICTIM", victim).getBytes(StandardCharsets.ISO_8859_1);
  }

  private int victimVisits() throws IOException {
    Reply reply = send(cookieHeader(victim.getBytes(StandardCharsets.US_ASCII)), "incr");
    assertThat(reply.status()).isEqualTo(200);
    return Integer.parseInt(reply.body());
  }

  private List<String> storedIds() throws Exception {
    List<String> ids = new ArrayList<>();
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT sid FROM session")) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    return ids;
  }

  private static Arguments ascii(String kind, String value) {
    return Arguments.of(kind, value.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static Arguments bytes(String kind, byte[] value) {
    return Arguments.of(kind, value);
  }

  private byte[] cookieHeader(byte[] value) {
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    header.writeBytes(("Cookie: " + cookieName() + "=").getBytes(StandardCharsets.US_ASCII));
    header.writeBytes(value);
    return header.toByteArray();
  }

  /** One HTTP/1.1 request over a fresh socket, the header line sent byte for byte. */
  private Reply send(byte[] headerLine, String op) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      try {
        out.write(
            ("GET /?op=" + op + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(headerLine);
        out.write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      } catch (IOException closedWhileWriting) {
        // The container answered an oversized header and closed before all of it was written.
        // Its answer may still be readable; a reset means it refused the request unanswered.
        try {
          String partial = readAll(socket.getInputStream());
          return partial.isEmpty() ? Reply.refused() : Reply.of(partial);
        } catch (IOException reset) {
          return Reply.refused();
        }
      }
      return Reply.of(readAll(socket.getInputStream()));
    }
  }

  private static String readAll(InputStream in) throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  record Reply(int status, String headers, String body) {
    /** The status recorded when the container closed the connection without an answer. */
    static final int REFUSED = -1;

    static Reply refused() {
      return new Reply(REFUSED, "", "");
    }

    static Reply of(String response) {
      Matcher status = STATUS.matcher(response);
      assertThat(status.find()).as("an HTTP response: %s", response).isTrue();
      int split = response.indexOf("\r\n\r\n");
      String headers = split < 0 ? response : response.substring(0, split);
      String body = split < 0 ? "" : dechunk(response.substring(split + 4));
      return new Reply(Integer.parseInt(status.group(1)), headers, body);
    }

    String sessionCookie() {
      Matcher m = SET_COOKIE.matcher(headers);
      return m.find() ? m.group(1) : null;
    }

    private static String dechunk(String body) {
      if (!body.contains("\r\n")) {
        return body;
      }
      StringBuilder out = new StringBuilder();
      String rest = body;
      while (!rest.isEmpty()) {
        int eol = rest.indexOf("\r\n");
        int size = Integer.parseInt(rest.substring(0, eol).trim(), 16);
        if (size == 0) {
          break;
        }
        out.append(rest, eol + 2, eol + 2 + size);
        rest = rest.substring(eol + 2 + size + 2);
      }
      return out.toString();
    }
  }
}
