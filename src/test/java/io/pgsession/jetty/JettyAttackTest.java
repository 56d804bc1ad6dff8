package io.pgsession.jetty;

import static io.pgsession.jetty.JettyTestSupport.factory;
import static io.pgsession.jetty.JettyTestSupport.strings;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.attack.OutageDataSource;
import io.pgsession.attack.SlowWritesDataSource;
import io.pgsession.testing.PostgresExtension;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Requests that try to make Jetty use a row it should not, or lose one it should keep. */
class JettyAttackTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  private JettyNode node;

  @AfterEach
  void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void rootContextDoesNotServeAnotherContextsRowNamedByItsPrefixInTheCookie() throws Exception {
    node = JettyNode.start("a", factory(pg), "/", "/shop");
    Browser shopper = new Browser();
    String shopId = shopper.get(node.uri("/shop", "op=set&name=role&value=shop-secret"));
    node.awaitIdle();

    String seenByRoot =
        Browser.getWithSessionId(node.uri("/", "op=get&name=role"), "/shop/" + shopId);

    assertThat(seenByRoot).isEqualTo("no session");
  }

  @Test
  void rootContextDoesNotWriteIntoAnotherContextsRow() throws Exception {
    node = JettyNode.start("a", factory(pg), "/", "/shop");
    Browser shopper = new Browser();
    String shopId = shopper.get(node.uri("/shop", "op=set&name=role&value=customer"));
    node.awaitIdle();

    Browser.getWithSessionId(node.uri("/", "op=set&name=role&value=admin"), "/shop/" + shopId);
    node.awaitIdle();

    assertThat(shopper.get(node.uri("/shop", "op=get&name=role")))
        .isEqualTo("java.lang.String:customer");
    assertThat(
            strings(
                pg.dataSource(),
                "SELECT sess->>'role' FROM session WHERE sid = ?",
                "/shop/" + shopId))
        .containsExactly("customer");
  }

  @Test
  void requestMeetingADownDatabaseFailsWithoutReplacingTheSessionCookie() throws Exception {
    OutageDataSource outage = OutageDataSource.wrap(pg.dataSource());
    node = JettyNode.start("a", factory(outage.dataSource()), "/");
    CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    HttpClient client = HttpClient.newBuilder().cookieHandler(cookies).build();
    send(client, node.uri("op=set&name=cart&value=3-apples"));
    node.awaitIdle();

    outage.down(true);
    HttpResponse<String> duringOutage = send(client, node.uri("op=incr"));
    node.awaitIdle();
    outage.down(false);
    HttpResponse<String> after = afterRecovery(client, node.uri("op=get&name=cart"));

    assertThat(duringOutage.statusCode()).isGreaterThanOrEqualTo(500);
    assertThat(duringOutage.headers().allValues("Set-Cookie")).isEmpty();
    assertThat(after.body()).isEqualTo("java.lang.String:3-apples");
  }

  @Test
  void unreadableRowUnderPolicyFailFailsTheRequestAndIsNotOverwritten() throws Exception {
    PgSessionDataStoreFactory factory = factory(pg);
    factory.setOnUndecodable("FAIL");
    node = JettyNode.start("a", factory, "/");
    CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    HttpClient client = HttpClient.newBuilder().cookieHandler(cookies).build();
    String id = send(client, node.uri("op=set&name=cart&value=3-apples")).body();
    node.awaitIdle();
    String unreadable = "{\"@t\": \"io.pgsession.notallowed.Outsider\", \"v\": {}}";
    JettyTestSupport.update(
        pg.dataSource(),
        "UPDATE session SET sess = jsonb_set(sess::jsonb, '{cart}', ?::jsonb)::json WHERE sid = ?",
        unreadable,
        id);
    String before =
        strings(pg.dataSource(), "SELECT sess::text FROM session WHERE sid = ?", id).get(0);

    HttpResponse<String> answer = send(client, node.uri("op=incr"));
    node.awaitIdle();

    assertThat(answer.statusCode()).isGreaterThanOrEqualTo(500);
    assertThat(strings(pg.dataSource(), "SELECT sess::text FROM session WHERE sid = ?", id))
        .containsExactly(before);
  }

  /**
   * A page that only opens a session sets its cookie; the browser's next request may go to another
   * node at once, which must find the session rather than hand out another one.
   */
  @Test
  void newSessionWithoutAttributesIsStoredBeforeTheResponse() throws Exception {
    node =
        JettyNode.start(
            "a", factory(SlowWritesDataSource.wrap(pg.dataSource(), Duration.ofSeconds(1))), "/");
    CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    HttpClient client = HttpClient.newBuilder().cookieHandler(cookies).build();

    HttpResponse<String> opened = send(client, node.uri("op=open"));
    String id = opened.body();
    List<String> rowsAtResponse =
        strings(pg.dataSource(), "SELECT sid FROM session WHERE sid = ?", id);

    assertThat(opened.statusCode()).isEqualTo(200);
    assertThat(rowsAtResponse).containsExactly(id);
  }

  @Test
  void attributeChangedInPlaceIsStoredBeforeTheResponse() throws Exception {
    node =
        JettyNode.start(
            "a", factory(SlowWritesDataSource.wrap(pg.dataSource(), Duration.ofSeconds(1))), "/");
    CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    HttpClient client = HttpClient.newBuilder().cookieHandler(cookies).build();
    String id = send(client, node.uri("op=append&value=first")).body();
    node.awaitIdle();

    send(client, node.uri("op=append&value=second"));
    List<String> atResponse =
        strings(pg.dataSource(), "SELECT sess->>'log' FROM session WHERE sid = ?", id);

    assertThat(atResponse).singleElement().asString().contains("second");
  }

  @Disabled(
      "Known limitation, not fixed: a request that read the session before another node changed"
          + " its id saves onto the old id, finds the row gone (SaveOutcome.GONE) and its change is"
          + " dropped silently; the store keeps no trace of where the row went")
  @Test
  void changeMadeWhileAnotherNodeChangesTheSessionIdIsKept() throws Exception {
    CountDownLatch parked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Runnable gate =
        () -> {
          parked.countDown();
          await(release);
        };
    node = JettyNode.start("a", factory(pg), "/");
    try (JettyNode gated =
        JettyNode.start("b", factory(SlowWritesDataSource.wrap(pg.dataSource(), gate)), "/")) {
      Browser browser = new Browser();
      browser.get(node.uri("op=set&name=x&value=1"));
      node.awaitIdle();
      String oldId = browser.get(node.uri("op=read")).split(" ")[0];
      node.awaitIdle();

      CompletableFuture<String> onB =
          CompletableFuture.supplyAsync(
              () -> Browser.getWithSessionId(gated.uri("op=set&name=y&value=2"), oldId));
      await(parked);
      browser.get(node.uri("op=change"));
      node.awaitIdle();
      release.countDown();
      onB.get(10, TimeUnit.SECONDS);
      gated.awaitIdle();

      assertThat(browser.get(node.uri("op=get&name=y"))).isEqualTo("java.lang.String:2");
    } finally {
      release.countDown();
    }
  }

  @Disabled(
      "Not fixed: Jetty 12's ManagedSession.invalidate() calls sessionDestroyed before it asks the"
          + " store to delete the row and ignores the delete's result, so a node whose delete found"
          + " no row still fires; the store has no hook before the listeners")
  @Test
  void invalidateOnTwoNodesAtOnceFiresSessionDestroyedOnce() throws Exception {
    CountDownLatch parked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Runnable gate =
        () -> {
          parked.countDown();
          await(release);
        };
    node = JettyNode.start("a", factory(pg), "/");
    try (JettyNode gated =
        JettyNode.start("b", factory(SlowWritesDataSource.wrap(pg.dataSource(), gate)), "/")) {
      Browser browser = new Browser();
      String id = browser.get(node.uri("op=set&name=x&value=1"));
      node.awaitIdle();

      CompletableFuture<String> onB =
          CompletableFuture.supplyAsync(
              () -> Browser.getWithSessionId(gated.uri("op=invalidate"), id));
      await(parked);
      String onA = browser.get(node.uri("op=invalidate"));
      node.awaitIdle();
      release.countDown();
      onB.get(10, TimeUnit.SECONDS);
      gated.awaitIdle();

      assertThat(onA).isEqualTo("invalidated");
      assertThat(node.destroyed.size() + gated.destroyed.size()).isOne();
    } finally {
      release.countDown();
    }
  }

  /** A logout on one node racing a login (id change) on another must not bring the session back. */
  @Test
  void sessionInvalidatedWhileAnotherNodeChangesItsIdIsNotRevived() throws Exception {
    CountDownLatch parked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Runnable gate =
        () -> {
          parked.countDown();
          await(release);
        };
    node = JettyNode.start("a", factory(pg), "/");
    try (JettyNode gated =
        JettyNode.start("b", factory(SlowWritesDataSource.wrap(pg.dataSource(), gate)), "/")) {
      Browser browser = new Browser();
      String id = browser.get(node.uri("op=set&name=user&value=ann"));
      node.awaitIdle();

      CompletableFuture<String> onB =
          CompletableFuture.supplyAsync(() -> Browser.getWithSessionId(gated.uri("op=change"), id));
      await(parked);
      String onA = browser.get(node.uri("op=invalidate"));
      node.awaitIdle();
      release.countDown();
      String newId = onB.get(10, TimeUnit.SECONDS);
      gated.awaitIdle();

      assertThat(onA).isEqualTo("invalidated");
      assertThat(newId).isNotEqualTo(id);
      assertThat(strings(pg.dataSource(), "SELECT sid FROM session WHERE sid IN (?, ?)", id, newId))
          .isEmpty();
      assertThat(Browser.getWithSessionId(node.uri("op=get&name=user"), newId))
          .isEqualTo("no session");
    } finally {
      release.countDown();
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * The first answer that found a session, within 10 s: pgsession refuses calls briefly after the
   * database failed, and Jetty reads a session it cannot load as none.
   */
  private static HttpResponse<String> afterRecovery(HttpClient client, URI uri) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    HttpResponse<String> answer = send(client, uri);
    while (answer.body().equals("no session") && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      answer = send(client, uri);
    }
    return answer;
  }

  private static HttpResponse<String> send(HttpClient client, URI uri) throws Exception {
    return client.send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
