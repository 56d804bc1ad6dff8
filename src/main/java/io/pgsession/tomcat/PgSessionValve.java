package io.pgsession.tomcat;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletException;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a {@link RequestScope} for each request of the manager's context and saves the sessions the
 * request used when it ends, before the response is completed, so that the next request, on any
 * node, sees the changes. An asynchronous request is saved when it completes.
 *
 * <p>The manager puts this valve in front of the authenticator, so the state a login writes into
 * the session is saved too. A response the application flushed itself may reach the client before
 * the save.
 */
final class PgSessionValve extends ValveBase {
  private static final Logger log = LoggerFactory.getLogger(PgSessionValve.class);
  private static final String SCOPE_NOTE = "io.pgsession.tomcat.RequestScope";

  private final PgSessionManager manager;

  PgSessionValve(PgSessionManager manager) {
    super(true);
    this.manager = manager;
  }

  @Override
  public void invoke(Request request, Response response) throws IOException, ServletException {
    if (request.getContext() == null
        || request.getContext().getManager() != manager
        || !manager.isServing()) {
      getNext().invoke(request, response);
      return;
    }
    RequestScope scope = (RequestScope) request.getNote(SCOPE_NOTE);
    if (scope == null) {
      scope = new RequestScope();
      request.setNote(SCOPE_NOTE, scope);
    }
    RequestScope previous = manager.bind(scope);
    boolean completed = false;
    try {
      getNext().invoke(request, response);
      completed = true;
    } finally {
      manager.unbind(previous);
      end(request, scope, completed);
    }
  }

  private void end(Request request, RequestScope scope, boolean completed) {
    if (request.isAsync()) {
      if (scope.claimAsyncListener()) {
        request.getAsyncContext().addListener(new SaveOnComplete(request, scope));
      }
      return;
    }
    request.removeNote(SCOPE_NOTE);
    if (completed) {
      manager.finish(scope);
    } else {
      // The request failed already; its error must not be replaced by a failed save.
      try {
        manager.finish(scope);
      } catch (RuntimeException e) {
        log.warn(
            "pgsession {} could not save the session of a request that failed",
            manager.contextName(),
            e);
      }
    }
  }

  /** Saves an asynchronous request's sessions when it completes. */
  private final class SaveOnComplete implements AsyncListener {
    private final Request request;
    private final RequestScope scope;

    SaveOnComplete(Request request, RequestScope scope) {
      this.request = request;
      this.scope = scope;
    }

    @Override
    public void onComplete(AsyncEvent event) {
      request.removeNote(SCOPE_NOTE);
      try {
        manager.finishAsync(scope, request);
      } catch (RuntimeException e) {
        log.warn(
            "pgsession {} could not save the session of an asynchronous request",
            manager.contextName(),
            e);
      }
    }

    @Override
    public void onTimeout(AsyncEvent event) {}

    @Override
    public void onError(AsyncEvent event) {}

    @Override
    public void onStartAsync(AsyncEvent event) {
      event.getAsyncContext().addListener(this);
    }
  }
}
