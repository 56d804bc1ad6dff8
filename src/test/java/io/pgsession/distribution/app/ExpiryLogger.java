package io.pgsession.distribution.app;

import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;

/**
 * Prints one line for each session the container destroys, with the visits it held, so that a test
 * reading the server's output sees that listeners fire on expiry, and on which server.
 */
public final class ExpiryLogger implements HttpSessionListener {
  @Override
  public void sessionDestroyed(HttpSessionEvent event) {
    System.out.println(
        "pgsession-test destroyed "
            + event.getSession().getId()
            + " visits="
            + event.getSession().getAttribute("visits"));
  }
}
