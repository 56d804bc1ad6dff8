package io.pgsession.distribution.app;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;

/**
 * The test web application's one servlet: counts the visits of a session. Deployed as a war in the
 * official Jetty and Tomcat distributions.
 */
public final class CounterServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  @Override
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    HttpSession session = req.getSession();
    Integer visits = (Integer) session.getAttribute("visits");
    int next = visits == null ? 1 : visits + 1;
    session.setAttribute("visits", next);
    if (req.getParameter("maxInactive") != null) {
      session.setMaxInactiveInterval(Integer.parseInt(req.getParameter("maxInactive")));
    }
    StringBuilder body = new StringBuilder("visits=" + next + " id=" + session.getId());
    String show = req.getParameter("show");
    if (show != null) {
      Object value = session.getAttribute(show);
      body.append(' ').append(show).append('=');
      body.append(value == null ? "null" : value.getClass().getName() + ":" + value);
    }
    resp.setContentType("text/plain");
    resp.getWriter().print(body);
  }
}
