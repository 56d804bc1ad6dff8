package io.pgsession.reliability;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Captures what one logger (and its children) logs while the capture is open. */
final class LogCapture implements AutoCloseable {
  private final Logger logger;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(String name) {
    this.logger = (Logger) LoggerFactory.getLogger(name);
    appender.start();
    logger.addAppender(appender);
  }

  /** Captures the logger of this name, for example {@code "io.pgsession"} or {@code "com"}. */
  static LogCapture of(String name) {
    return new LogCapture(name);
  }

  List<ILoggingEvent> events() {
    return List.copyOf(appender.list);
  }

  /** Every captured message with its throwables' messages, for searching. */
  String text() {
    StringBuilder text = new StringBuilder();
    for (ILoggingEvent e : events()) {
      text.append(e.getFormattedMessage()).append('\n');
      for (var t = e.getThrowableProxy(); t != null; t = t.getCause()) {
        text.append(t.getClassName()).append(": ").append(t.getMessage()).append('\n');
      }
    }
    return text.toString();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
