package io.pgsession.jetty;

import io.pgsession.jetty.testapp.SessionServlet;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.session.DefaultSessionIdManager;
import org.eclipse.jetty.util.Callback;

/**
 * One embedded Jetty server on 127.0.0.1 (port chosen by the OS) serving the test web application
 * in one or more contexts, each storing its sessions through pgsession.
 */
final class JettyNode implements AutoCloseable {
  final Server server;
  final Map<String, ServletContextHandler> contexts = new LinkedHashMap<>();

  /** {@code "<context> <session id>"} for each {@code sessionDestroyed} this node fired. */
  final List<String> destroyed = new CopyOnWriteArrayList<>();

  private final ServerConnector connector;

  private JettyNode(
      String worker,
      PgSessionDataStoreFactory factory,
      Consumer<ServletContextHandler> customizer,
      String... contextPaths) {
    server = new Server();
    connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    DefaultSessionIdManager ids = new DefaultSessionIdManager(server);
    ids.setWorkerName(worker);
    server.addBean(ids, true);
    ContextHandlerCollection handlers = new ContextHandlerCollection();
    for (String path : contextPaths) {
      handlers.addHandler(context(path, factory, customizer));
    }
    server.setHandler(new CompletionTracker(handlers));
  }

  static JettyNode start(String worker, PgSessionDataStoreFactory factory, String... contexts)
      throws Exception {
    return start(worker, factory, false, contexts.length == 0 ? new String[] {"/"} : contexts);
  }

  /** With {@code sharedCookiePath} every context sets its cookie on {@code /}. */
  static JettyNode start(
      String worker, PgSessionDataStoreFactory factory, boolean sharedCookiePath, String... paths)
      throws Exception {
    return start(
        worker,
        factory,
        c -> {
          if (sharedCookiePath) {
            c.getSessionHandler().setSessionPath("/");
          }
        },
        paths);
  }

  /** With {@code customizer} applied to each context before the server starts. */
  static JettyNode start(
      String worker,
      PgSessionDataStoreFactory factory,
      Consumer<ServletContextHandler> customizer,
      String... paths)
      throws Exception {
    JettyNode node = new JettyNode(worker, factory, customizer, paths);
    node.server.start();
    return node;
  }

  private ServletContextHandler context(
      String path, PgSessionDataStoreFactory factory, Consumer<ServletContextHandler> customizer) {
    ServletContextHandler context = new ServletContextHandler(path, ServletContextHandler.SESSIONS);
    context.addServlet(SessionServlet.class, "/*");
    context.getSessionHandler().setMaxInactiveInterval(1800);
    context.addEventListener(
        new HttpSessionListener() {
          @Override
          public void sessionDestroyed(HttpSessionEvent event) {
            destroyed.add(path + " " + event.getSession().getId());
          }
        });
    customizer.accept(context);
    PgSessions.install(context.getSessionHandler(), factory);
    contexts.put(path, context);
    return context;
  }

  URI uri(String query) {
    return uri("/", query);
  }

  URI uri(String contextPath, String query) {
    String base = contextPath.equals("/") ? "" : contextPath;
    return URI.create("http://127.0.0.1:" + connector.getLocalPort() + base + "/?" + query);
  }

  /** Runs the session scavenger of every context now, as Jetty's HouseKeeper would. */
  void scavenge() {
    contexts.values().forEach(c -> c.getSessionHandler().scavenge());
  }

  PgSessionDataStore store(String contextPath) {
    return (PgSessionDataStore)
        contexts.get(contextPath).getSessionHandler().getSessionCache().getSessionDataStore();
  }

  /**
   * Waits until every request has completed, session release included: Jetty releases a session
   * after the response has been sent, so a client may see the response before the final save.
   */
  void awaitIdle() {
    ((CompletionTracker) server.getHandler()).awaitIdle();
  }

  @Override
  public void close() {
    if (server.isStarted()) {
      awaitIdle();
    }
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop Jetty", e);
    }
  }

  /** Counts requests in flight until their stream, and so their session, is complete. */
  private static final class CompletionTracker extends Handler.Wrapper {
    private final AtomicInteger inFlight = new AtomicInteger();

    CompletionTracker(Handler handler) {
      super(handler);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      inFlight.incrementAndGet();
      request.addHttpStreamWrapper(
          stream ->
              new HttpStream.Wrapper(stream) {
                @Override
                public void succeeded() {
                  try {
                    super.succeeded();
                  } finally {
                    inFlight.decrementAndGet();
                  }
                }

                @Override
                public void failed(Throwable x) {
                  try {
                    super.failed(x);
                  } finally {
                    inFlight.decrementAndGet();
                  }
                }
              });
      return super.handle(request, response, callback);
    }

    void awaitIdle() {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (inFlight.get() > 0) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(inFlight.get() + " requests still in flight after 10 s");
        }
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
      }
    }
  }
}
