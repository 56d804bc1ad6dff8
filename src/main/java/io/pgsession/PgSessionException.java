package io.pgsession;

import java.sql.SQLException;
import org.jspecify.annotations.Nullable;

/**
 * The one unchecked exception pgsession throws. It names the operation that failed, the session it
 * concerned (when there was one) and, for database errors, the SQLState reported by PostgreSQL, so
 * that a log line alone tells what happened and where.
 */
public final class PgSessionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String operation;
  private final @Nullable String sessionId;
  private final @Nullable String sqlState;

  public PgSessionException(
      String operation, @Nullable String sessionId, String message, @Nullable Throwable cause) {
    super(compose(operation, sessionId, message, sqlStateOf(cause)), cause);
    this.operation = operation;
    this.sessionId = sessionId;
    this.sqlState = sqlStateOf(cause);
  }

  public PgSessionException(String operation, @Nullable String sessionId, String message) {
    this(operation, sessionId, message, null);
  }

  /**
   * A setting refused: "setting {@code name} = '{@code value}' {@code rule}", so that every
   * configuration surface names the setting and the value as written the same way.
   */
  public static PgSessionException badSetting(String name, Object value, String rule) {
    return new PgSessionException(
        "configure", null, "setting " + name + " = '" + value + "' " + rule);
  }

  /** What pgsession was doing: {@code load}, {@code save}, {@code reap}, {@code configure}... */
  public String operation() {
    return operation;
  }

  /** The session the operation concerned, or {@code null} for work on no single session. */
  public @Nullable String sessionId() {
    return sessionId;
  }

  /** The SQLState of the database error behind this exception, if there was one. */
  public @Nullable String sqlState() {
    return sqlState;
  }

  /**
   * Whether the database could not be reached (down, restarting, no connection in time): a failure
   * that may pass, unlike one the database answered with, such as a missing table.
   */
  public boolean isUnreachable() {
    return getCause() instanceof SQLException sql && SessionTable.isUnreachable(sql);
  }

  private static @Nullable String sqlStateOf(@Nullable Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return sql.getSQLState();
      }
    }
    return null;
  }

  private static String compose(
      String operation, @Nullable String sessionId, String message, @Nullable String sqlState) {
    StringBuilder text = new StringBuilder("pgsession ").append(operation);
    if (sessionId != null) {
      text.append(" of session ").append(SessionIds.forLog(sessionId));
    }
    text.append(" failed: ").append(message);
    if (sqlState != null) {
      text.append(" [SQLState ").append(sqlState).append(']');
    }
    return text.toString();
  }
}
