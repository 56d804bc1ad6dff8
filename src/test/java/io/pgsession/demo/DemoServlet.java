package io.pgsession.demo;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.sql.DataSource;

/**
 * The demo pages. {@code /} counts a visit and shows the session and its row; {@code /peek} shows
 * them without changing anything (so nothing is written); {@code /row} gives the raw row as JSON;
 * {@code ?do=add|login|invalidate} act and redirect back.
 */
final class DemoServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final transient DataSource dataSource;
  private final String node;

  DemoServlet(DataSource dataSource, String node) {
    this.dataSource = dataSource;
    this.node = node;
  }

  @Override
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    String action = req.getParameter("do");
    if (action != null) {
      act(action, req);
      resp.sendRedirect(req.getContextPath() + "/");
      return;
    }
    switch (req.getPathInfo() == null ? "/" : req.getPathInfo()) {
      case "/row" -> rawRow(req, resp);
      case "/peek" -> page(req.getSession(false), resp, false);
      default -> page(visit(req.getSession(true)), resp, true);
    }
  }

  private static HttpSession visit(HttpSession session) {
    Long visits = (Long) session.getAttribute("visits");
    session.setAttribute("visits", visits == null ? 1L : visits + 1);
    if (session.getAttribute("firstVisit") == null) {
      session.setAttribute("firstVisit", LocalDateTime.now().withNano(0));
    }
    return session;
  }

  private static void act(String action, HttpServletRequest req) {
    switch (action) {
      case "add" -> addToCart(req.getSession(true), req.getParameter("item"));
      case "login" -> login(req);
      case "invalidate" -> {
        HttpSession session = req.getSession(false);
        if (session != null) {
          session.invalidate();
        }
      }
      default -> {}
    }
  }

  @SuppressWarnings("unchecked")
  private static void addToCart(HttpSession session, String item) {
    List<String> cart = (List<String>) session.getAttribute("cart");
    List<String> next = cart == null ? new ArrayList<>() : new ArrayList<>(cart);
    next.add(item == null || item.isBlank() ? "tea" : item.strip());
    session.setAttribute("cart", next);
  }

  /** As a real login does, gives the session a new id so that an old one is worth nothing. */
  private static void login(HttpServletRequest req) {
    HttpSession session = req.getSession(true);
    if (!session.isNew()) {
      req.changeSessionId();
    }
    String name = req.getParameter("name");
    session.setAttribute(
        "user",
        new DemoUser(
            name == null || name.isBlank() ? "ann" : name.strip(),
            LocalDateTime.now().withNano(0)));
  }

  private void page(HttpSession session, HttpServletResponse resp, boolean counted)
      throws IOException {
    StringBuilder html = new StringBuilder(4096);
    html.append("<!doctype html><html><head><meta charset=utf-8><title>pgsession demo</title>")
        .append("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}")
        .append("td,th{border-bottom:1px solid #ddd;padding:.2em .6em;text-align:left}")
        .append("pre{background:#f4f4f4;padding:1em;white-space:pre-wrap}</style></head><body>")
        .append("<h1>pgsession demo</h1><p>Served by node <b>")
        .append(escape(node))
        .append("</b>.</p>");
    if (session == null) {
      html.append("<p>No session. <a href=\"/\">Start one</a>.</p>");
    } else {
      describe(session, counted, html);
    }
    html.append("</body></html>");
    resp.setContentType("text/html;charset=utf-8");
    resp.getWriter().print(html);
  }

  private void describe(HttpSession session, boolean counted, StringBuilder html) {
    html.append("<p>Session <code>")
        .append(escape(session.getId()))
        .append("</code>")
        .append(session.isNew() ? " (new)" : "")
        .append(". Visits: <b>")
        .append(session.getAttribute("visits"))
        .append("</b>")
        .append(counted ? "" : " (this view changed nothing, so nothing was written)")
        .append(".</p><table><tr><th>attribute</th><th>class</th><th>value</th></tr>");
    List<String> names = new ArrayList<>(Collections.list(session.getAttributeNames()));
    Collections.sort(names);
    for (String name : names) {
      Object value = session.getAttribute(name);
      html.append("<tr><td>")
          .append(escape(name))
          .append("</td><td>")
          .append(escape(value == null ? "" : value.getClass().getName()))
          .append("</td><td>")
          .append(escape(String.valueOf(value)))
          .append("</td></tr>");
    }
    html.append("</table><p>")
        .append("<a href=\"/\">count a visit</a> | <a href=\"/peek\">look without changing</a> | ")
        .append("<a href=\"/?do=add&amp;item=tea\">add tea to the cart</a> | ")
        .append("<a href=\"/?do=login&amp;name=ann\">log in as ann (new session id)</a> | ")
        .append("<a href=\"/?do=invalidate\">invalidate</a> | <a href=\"/row\">row as JSON</a>")
        .append("</p><h2>The row in PostgreSQL</h2><p>As stored before this request; the")
        .append(" changes of this request are written as the response is sent.</p><pre>")
        .append("SELECT sess, expire FROM session WHERE sid = '")
        .append(escape(session.getId()))
        .append("';\n\n")
        .append(escape(row(session.getId())))
        .append("</pre>");
  }

  private void rawRow(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    HttpSession session = req.getSession(false);
    resp.setContentType("application/json;charset=utf-8");
    resp.getWriter().print(session == null ? "null" : row(session.getId()));
  }

  /** The session's row as stored now: {@code sess} and {@code expire}. */
  private String row(String sid) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT json_build_object('sess', sess, 'expire', expire)::text"
                    + " FROM session WHERE sid = ?")) {
      ps.setString(1, sid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : "(no row yet)";
      }
    } catch (SQLException e) {
      return "(cannot read the row: " + e.getMessage() + ")";
    }
  }

  private static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (char c : text.toCharArray()) {
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
