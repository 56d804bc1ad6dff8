package io.pgsession.tomcat;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpSessionAttributeListener;
import jakarta.servlet.http.HttpSessionBindingEvent;
import jakarta.servlet.http.HttpSessionBindingListener;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.Principal;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.realm.GenericPrincipal;
import org.apache.catalina.realm.RealmBase;

/** The web application the Tomcat tests deploy: one servlet driven by the request path. */
final class TestApp {
  private TestApp() {}

  /** A value that counts its binding events, to show they fire as on a stock Tomcat. */
  public record Tracked(String name) implements HttpSessionBindingListener {
    static final AtomicInteger BOUND = new AtomicInteger();
    static final AtomicInteger UNBOUND = new AtomicInteger();

    @Override
    public void valueBound(HttpSessionBindingEvent event) {
      BOUND.incrementAndGet();
    }

    @Override
    public void valueUnbound(HttpSessionBindingEvent event) {
      UNBOUND.incrementAndGet();
    }
  }

  /** Counts session and attribute events on one node. */
  static final class Events implements HttpSessionListener, HttpSessionAttributeListener {
    final AtomicInteger created = new AtomicInteger();
    final AtomicInteger destroyed = new AtomicInteger();
    final AtomicInteger added = new AtomicInteger();
    final AtomicInteger replaced = new AtomicInteger();
    final AtomicInteger removed = new AtomicInteger();

    @Override
    public void sessionCreated(HttpSessionEvent se) {
      created.incrementAndGet();
    }

    @Override
    public void sessionDestroyed(HttpSessionEvent se) {
      destroyed.incrementAndGet();
    }

    @Override
    public void attributeAdded(HttpSessionBindingEvent event) {
      added.incrementAndGet();
    }

    @Override
    public void attributeReplaced(HttpSessionBindingEvent event) {
      replaced.incrementAndGet();
    }

    @Override
    public void attributeRemoved(HttpSessionBindingEvent event) {
      removed.incrementAndGet();
    }
  }

  /** Knows one user, ann, with the role "user". */
  static final class OneUserRealm extends RealmBase {
    @Override
    protected String getPassword(String username) {
      return "ann".equals(username) ? "secret" : null;
    }

    @Override
    protected Principal getPrincipal(String username) {
      return new GenericPrincipal(username, List.of("user"));
    }
  }

  /**
   * The servlet: {@code /get?name=}, {@code /set?name=&value=}, {@code /incr}, {@code /id}, {@code
   * /rotate}, {@code /invalidate}, {@code /track?name=}, {@code /untrack?name=}, {@code
   * /secure/whoami}, {@code /login}, {@code /error}.
   */
  static final class Servlet extends HttpServlet {
    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      String path = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
      if (path.equals("/async-set")) {
        setOnAnotherThread(req, resp);
        return;
      }
      resp.setContentType("text/plain");
      resp.getWriter().print(answer(path, req));
    }

    private static String answer(String path, HttpServletRequest req) {
      if (path.equals("/login") || path.equals("/error")) {
        return path.equals("/login") ? "login page" : "login failed";
      }
      HttpSession existing = req.getSession(false);
      return switch (path) {
        case "/get" -> existing == null ? "none" : String.valueOf(existing.getAttribute(name(req)));
        case "/set" -> {
          req.getSession().setAttribute(name(req), req.getParameter("value"));
          yield "ok";
        }
        case "/incr" -> {
          HttpSession s = req.getSession();
          Long n = (Long) s.getAttribute("n");
          long next = n == null ? 1 : n + 1;
          s.setAttribute("n", next);
          yield String.valueOf(next);
        }
        case "/id" -> existing == null ? "none" : existing.getId();
        case "/interval" -> {
          HttpSession s = req.getSession();
          s.setMaxInactiveInterval(Integer.parseInt(req.getParameter("seconds")));
          yield String.valueOf(s.getMaxInactiveInterval());
        }
        case "/rotate" -> req.changeSessionId();
        case "/invalidate" -> {
          if (existing != null) {
            existing.invalidate();
          }
          yield "ok";
        }
        case "/track" -> {
          req.getSession().setAttribute(name(req), new Tracked(name(req)));
          yield "ok";
        }
        case "/untrack" -> {
          req.getSession().removeAttribute(name(req));
          yield "ok";
        }
        case "/secure/whoami" -> req.getRemoteUser() + " " + req.isUserInRole("user");
        default -> "unknown " + path;
      };
    }

    /** Sets an attribute from an async thread, then completes the request. */
    private static void setOnAnotherThread(HttpServletRequest req, HttpServletResponse resp) {
      AsyncContext async = req.startAsync();
      async.start(
          () -> {
            req.getSession().setAttribute(name(req), req.getParameter("value"));
            try {
              resp.setContentType("text/plain");
              resp.getWriter().print("ok");
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
            async.complete();
          });
    }

    private static String name(HttpServletRequest req) {
      String name = req.getParameter("name");
      return name == null ? "a" : name;
    }
  }
}
