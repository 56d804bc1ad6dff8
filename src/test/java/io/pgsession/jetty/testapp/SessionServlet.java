package io.pgsession.jetty.testapp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The test web application: {@code ?op=} selects what a request does with its session, and the
 * response body tells what it found, so that tests observe sessions only through HTTP.
 */
public final class SessionServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  /** The typed values {@code op=types} stores. */
  public static final LocalDateTime WHEN = LocalDateTime.of(2026, 12, 4, 17, 30, 15, 123_000_000);

  public static final List<String> TAGS = List.of("red", "green", "blue");
  public static final Item ITEM = new Item("tea", 3);

  @Override
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    String op = req.getParameter("op");
    String body =
        switch (op == null ? "" : op) {
          case "incr" -> increment(req.getSession(true));
          case "set" ->
              set(req.getSession(true), req.getParameter("name"), req.getParameter("value"));
          case "get" -> get(req.getSession(false), req.getParameter("name"));
          case "read" -> read(req.getSession(false));
          case "open" -> req.getSession(true).getId();
          case "append" -> append(req.getSession(true), req.getParameter("value"));
          case "types" -> storeTypes(req.getSession(true));
          case "check-types" -> checkTypes(req.getSession(false));
          case "change" -> change(req);
          case "invalidate" -> invalidate(req.getSession(false));
          default -> "unknown op " + op;
        };
    resp.setContentType("text/plain;charset=utf-8");
    resp.getWriter().print(body);
  }

  private static String increment(HttpSession session) {
    Long visits = (Long) session.getAttribute("visits");
    long next = visits == null ? 1 : visits + 1;
    session.setAttribute("visits", next);
    return String.valueOf(next);
  }

  private static String set(HttpSession session, String name, String value) {
    session.setAttribute(name, value);
    return session.getId();
  }

  /** Appends to the list attribute "log", changing a list already stored in place. */
  @SuppressWarnings("unchecked")
  private static String append(HttpSession session, String value) {
    List<String> log = (List<String>) session.getAttribute("log");
    if (log == null) {
      session.setAttribute("log", new ArrayList<>(List.of(value)));
    } else {
      log.add(value);
    }
    return session.getId();
  }

  private static String get(HttpSession session, String name) {
    if (session == null) {
      return "no session";
    }
    Object value = session.getAttribute(name);
    return value == null ? "null" : value.getClass().getName() + ":" + value;
  }

  /** Reads every attribute and changes nothing. */
  private static String read(HttpSession session) {
    if (session == null) {
      return "no session";
    }
    List<String> names = new ArrayList<>(Collections.list(session.getAttributeNames()));
    Collections.sort(names);
    StringBuilder out = new StringBuilder(session.getId());
    for (String name : names) {
      out.append(' ').append(name).append('=').append(session.getAttribute(name));
    }
    return out.toString();
  }

  private static String storeTypes(HttpSession session) {
    session.setAttribute("when", WHEN);
    session.setAttribute("tags", new ArrayList<>(TAGS));
    session.setAttribute("item", ITEM);
    session.setAttribute("big", Long.MAX_VALUE);
    return session.getId();
  }

  private static String checkTypes(HttpSession session) {
    if (session == null) {
      return "no session";
    }
    Object big = session.getAttribute("big");
    return String.join(
        "\n",
        check("when", session.getAttribute("when"), WHEN),
        check("tags", session.getAttribute("tags"), TAGS),
        check("item", session.getAttribute("item"), ITEM),
        check("big", big, Long.MAX_VALUE),
        "bigClass=" + (big == null ? "null" : big.getClass().getName()));
  }

  private static String check(String name, Object actual, Object expected) {
    return name + "=" + (expected.equals(actual) ? "equal" : "differs: " + actual);
  }

  private static String change(HttpServletRequest req) {
    if (req.getSession(false) == null) {
      return "no session";
    }
    return req.changeSessionId();
  }

  private static String invalidate(HttpSession session) {
    if (session == null) {
      return "no session";
    }
    session.invalidate();
    return "invalidated";
  }
}
