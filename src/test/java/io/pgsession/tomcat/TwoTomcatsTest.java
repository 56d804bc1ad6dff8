package io.pgsession.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.CountingDataSource;
import io.pgsession.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two embedded Tomcats sharing one table, driven by real HTTP requests that alternate between them
 * as a load balancer without sticky sessions would.
 */
class TwoTomcatsTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  static CountingDataSource countingA;
  static CountingDataSource countingB;
  static TestNode a;
  static TestNode b;

  @BeforeAll
  static void startNodes() {
    countingA = CountingDataSource.wrap(pg.dataSource());
    countingB = CountingDataSource.wrap(pg.dataSource());
    a = new TestNode("a", countingA.dataSource()).start();
    b = new TestNode("b", countingB.dataSource()).start();
  }

  @AfterAll
  static void stopNodes() {
    b.close();
    a.close();
  }

  @Test
  void requestsAlternatingBetweenNodesEachSeeTheLatestState() {
    Browser browser = new Browser();

    StringBuilder seen = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      seen.append(browser.get(i % 2 == 0 ? a : b, "/app/incr")).append(' ');
    }

    assertThat(seen.toString()).isEqualTo("1 2 3 4 5 6 ");
  }

  @Test
  void asynchronousRequestIsSavedWhenItCompletes() {
    Browser browser = new Browser();
    browser.get(a, "/app/set?name=x&value=before");

    String answer = browser.get(a, "/app/async-set?name=x&value=after");
    String onB = browser.get(b, "/app/get?name=x");

    assertThat(answer).isEqualTo("ok");
    assertThat(onB).isEqualTo("after");
  }

  @Test
  void sessionIdCarriesTheCreatingNodesRouteAndEveryNodeFindsIt() {
    Browser browser = new Browser();
    browser.get(a, "/app/set?name=x&value=from-a");

    String onB = browser.get(b, "/app/get?name=x");

    assertThat(browser.cookie("JSESSIONID")).endsWith(".a");
    assertThat(onB).isEqualTo("from-a");
  }

  @Test
  void sessionSurvivesARestartOfTheNode() throws Exception {
    Browser browser = new Browser();
    try (TestNode c = new TestNode("c", pg.dataSource()).start()) {
      browser.get(c, "/app/set?name=cart&value=3%20apples");
    }

    String afterRestart;
    try (TestNode c = new TestNode("c", pg.dataSource()).start()) {
      afterRestart = browser.get(c, "/app/get?name=cart");
    }

    assertThat(afterRestart).isEqualTo("3 apples");
  }

  @Test
  void changedSessionIdKeepsTheDataOnEveryNodeAndFreesTheOldId() throws SQLException {
    Browser browser = new Browser();
    browser.get(a, "/app/set?name=user&value=ann");
    String oldId = browser.get(a, "/app/id");

    String newId = browser.get(b, "/app/rotate");
    String onA = browser.get(a, "/app/get?name=user");

    assertThat(newId).isNotEqualTo(oldId).isEqualTo(browser.cookie("JSESSIONID"));
    assertThat(onA).isEqualTo("ann");
    assertThat(rows("/app/" + bare(oldId))).isZero();
    assertThat(rows("/app/" + bare(newId))).isOne();
  }

  @Test
  void formLoginOnOneNodeAuthenticatesTheNextRequestsOnTheOther() {
    Browser browser = new Browser();

    Browser.Answer loginPage = browser.send(a, "/app/secure/whoami", null);
    Browser.Answer posted =
        browser.send(
            b, "/app/j_security_check", Map.of("j_username", "ann", "j_password", "secret"));
    String replayed = browser.get(a, "/app/secure/whoami");
    String again = browser.get(b, "/app/secure/whoami");

    assertThat(loginPage.body()).isEqualTo("login page");
    assertThat(posted.status()).isEqualTo(303);
    assertThat(posted.location()).endsWith("/app/secure/whoami");
    assertThat(replayed).isEqualTo("ann true");
    assertThat(again).isEqualTo("ann true");
  }

  @Test
  void failedFormLoginLeavesTheUserSignedOut() {
    Browser browser = new Browser();
    browser.send(a, "/app/secure/whoami", null);

    Browser.Answer posted =
        browser.send(b, "/app/j_security_check", Map.of("j_username", "ann", "j_password", "no"));
    Browser.Answer after = browser.send(a, "/app/secure/whoami", null);

    assertThat(posted.body()).isEqualTo("login failed");
    assertThat(after.body()).isEqualTo("login page");
  }

  @Test
  void basicLoginIsRememberedByTheOtherNodeWithoutCredentials() {
    Browser browser = new Browser();
    browser.get(a, "/basic/set?name=x&value=1");
    browser.basicAuth("ann", "secret");
    String first = browser.get(a, "/basic/secure/whoami");

    browser.basicAuth(null, "");
    Browser.Answer onB = browser.send(b, "/basic/secure/whoami", null);

    assertThat(first).isEqualTo("ann true");
    assertThat(onB.status()).isEqualTo(200);
    assertThat(onB.body()).isEqualTo("ann true");
  }

  @Test
  void basicWithoutSessionOrCredentialsIsRefused() {
    Browser browser = new Browser();

    Browser.Answer answer = browser.send(b, "/basic/secure/whoami", null);

    assertThat(answer.status()).isEqualTo(401);
  }

  @Test
  void sessionCreatedFiresOnceOnTheNodeThatCreatedTheSession() {
    int createdOnA = a.events.created.get();
    int createdOnB = b.events.created.get();
    Browser browser = new Browser();

    browser.get(a, "/app/set?name=x&value=1");
    browser.get(b, "/app/set?name=x&value=2");
    browser.get(a, "/app/get?name=x");
    browser.get(b, "/app/get?name=x");

    assertThat(a.events.created.get() - createdOnA).isOne();
    assertThat(b.events.created.get() - createdOnB).isZero();
  }

  @Test
  void readingASessionOnAnotherNodeFiresNoBindingOrAttributeEvents() {
    int bound = TestApp.Tracked.BOUND.get();
    int unbound = TestApp.Tracked.UNBOUND.get();
    int addedA = a.events.added.get();
    int addedB = b.events.added.get();
    int removedB = b.events.removed.get();
    Browser browser = new Browser();

    browser.get(a, "/app/track?name=t");
    browser.get(b, "/app/get?name=t");
    browser.get(a, "/app/get?name=t");
    int boundAfterReads = TestApp.Tracked.BOUND.get() - bound;
    int addedAfterReads = a.events.added.get() - addedA + b.events.added.get() - addedB;
    browser.get(b, "/app/untrack?name=t");

    assertThat(boundAfterReads).isOne();
    assertThat(addedAfterReads).isOne();
    assertThat(TestApp.Tracked.UNBOUND.get() - unbound).isOne();
    assertThat(b.events.removed.get() - removedB).isOne();
  }

  @Test
  void expiryFiresSessionDestroyedAndValueUnboundOnceAcrossBothNodes() throws SQLException {
    Browser browser = new Browser();
    browser.get(a, "/app/track?name=t");
    String id = browser.get(b, "/app/id");
    int destroyed = a.events.destroyed.get() + b.events.destroyed.get();
    int unbound = TestApp.Tracked.UNBOUND.get();

    sql(
        "UPDATE session SET expire = expire - interval '2 hours' WHERE sid = ?",
        "/app/" + bare(id));
    b.manager.processExpires();
    a.manager.processExpires();
    b.manager.processExpires();

    assertThat(a.events.destroyed.get() + b.events.destroyed.get() - destroyed).isOne();
    assertThat(TestApp.Tracked.UNBOUND.get() - unbound).isOne();
    assertThat(rows("/app/" + bare(id))).isZero();
    assertThat(browser.get(a, "/app/id")).isEqualTo("none");
  }

  @Test
  void expiredSessionMetByARequestFiresSessionDestroyedOnceAndIsNotServed() throws SQLException {
    Browser browser = new Browser();
    browser.get(a, "/app/set?name=x&value=1");
    String id = browser.get(a, "/app/id");
    int destroyed = a.events.destroyed.get() + b.events.destroyed.get();

    sql(
        "UPDATE session SET expire = expire - interval '2 hours' WHERE sid = ?",
        "/app/" + bare(id));
    String onB = browser.get(b, "/app/get?name=x");
    a.manager.processExpires();

    assertThat(onB).isEqualTo("none");
    assertThat(a.events.destroyed.get() + b.events.destroyed.get() - destroyed).isOne();
  }

  @Test
  void invalidateOnOneNodeFiresSessionDestroyedOnceAndEndsTheSessionEverywhere() {
    Browser browser = new Browser();
    browser.get(a, "/app/set?name=x&value=1");
    int destroyed = a.events.destroyed.get() + b.events.destroyed.get();

    browser.get(b, "/app/invalidate");
    String onA = browser.get(a, "/app/get?name=x");
    a.manager.processExpires();
    b.manager.processExpires();

    assertThat(onA).isEqualTo("none");
    assertThat(a.events.destroyed.get() + b.events.destroyed.get() - destroyed).isOne();
  }

  @Test
  void readOnlyRequestInsideTheTouchWindowCostsOneStatement() {
    Browser browser = new Browser();
    browser.get(a, "/app/set?name=x&value=1");
    browser.get(b, "/app/get?name=x");
    countingB.reset();

    String value = browser.get(b, "/app/get?name=x");

    assertThat(value).isEqualTo("1");
    assertThat(countingB.count()).isOne();
  }

  @Test
  void requestThatCreatesASessionWritesItWithOnePlainInsert() {
    Browser browser = new Browser();
    countingB.reset();

    browser.get(b, "/app/set?name=x&value=1");

    List<String> writes = countingB.writes();
    assertThat(writes).hasSize(1);
    assertThat(writes.get(0)).startsWith("INSERT").doesNotContain("ON CONFLICT");
    assertThat(browser.get(a, "/app/get?name=x")).isEqualTo("1");
  }

  @Test
  void changedRequestCostsOneReadAndOneWriteOfTheDocumentAlone() {
    Browser browser = new Browser();
    browser.get(a, "/app/set?name=x&value=1");
    countingB.reset();

    browser.get(b, "/app/set?name=x&value=2");

    assertThat(countingB.count()).isEqualTo(2);
    // Inside the touch window, with the interval unchanged: expire stays, so the update is HOT.
    assertThat(countingB.writes()).singleElement().asString().doesNotContain("expire");
  }

  @Test
  void activeSessionsCountOnlyWhatRequestsOnTheNodeAreUsing() throws SQLException {
    Browser browser = new Browser();
    browser.get(a, "/app/set?name=x&value=1");

    int active = a.manager.getActiveSessions();

    assertThat(active).isZero();
    assertThat(a.manager.findSessions()).isEmpty();
    assertThat(count("SELECT count(*) FROM session")).isPositive();
  }

  @Test
  void contextsOnOneTableDoNotShareSessions() {
    Browser browser = new Browser();
    browser.get(a, "/app/set?name=x&value=app");

    String inBasic = browser.get(b, "/basic/get?name=x");

    assertThat(inBasic).isEqualTo("none");
  }

  private static String bare(String id) {
    int dot = id.indexOf('.');
    return dot < 0 ? id : id.substring(0, dot);
  }

  static void sql(String statement, String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(statement)) {
      ps.setString(1, sid);
      ps.executeUpdate();
    }
  }

  static long rows(String sid) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM session WHERE sid = ?")) {
      ps.setString(1, sid);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  static long count(String query) throws SQLException {
    try (Connection c = pg.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(query);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
