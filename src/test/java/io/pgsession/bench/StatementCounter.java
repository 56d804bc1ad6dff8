package io.pgsession.bench;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * Wraps a {@link DataSource} so that every SQL statement sent through its connections is counted,
 * cheaply enough to stay on while a benchmark measures.
 *
 * <p>A statement is one {@code execute*} call, one {@code addBatch} (a batch of fifty counts
 * fifty), or one {@code commit} or {@code rollback} on a connection, since each of those sends SQL
 * to the server. Preparing a statement and switching auto-commit send nothing with pgjdbc and are
 * not counted. Thread-safe; {@link #reset()} and {@link #count()} are meant to be called while no
 * statements run.
 */
final class StatementCounter {
  private final LongAdder statements = new LongAdder();
  private final DataSource counting;

  StatementCounter(DataSource target) {
    this.counting = proxy(DataSource.class, target, this::onDataSource);
  }

  /** The data source to give to the stores under test. */
  DataSource dataSource() {
    return counting;
  }

  long count() {
    return statements.sum();
  }

  void reset() {
    statements.reset();
  }

  private Object onDataSource(Object target, Method method, Object[] args) throws Throwable {
    Object result = invoke(target, method, args);
    return result instanceof Connection c ? proxy(Connection.class, c, this::onConnection) : result;
  }

  private Object onConnection(Object target, Method method, Object[] args) throws Throwable {
    String name = method.getName();
    if (name.equals("commit") || name.equals("rollback")) {
      statements.increment();
    }
    Object result = invoke(target, method, args);
    if (result instanceof Statement && Statement.class.isAssignableFrom(method.getReturnType())) {
      return proxy(method.getReturnType(), result, this::onStatement);
    }
    return result;
  }

  private Object onStatement(Object target, Method method, Object[] args) throws Throwable {
    String name = method.getName();
    if (name.equals("addBatch") || (name.startsWith("execute") && !name.endsWith("Batch"))) {
      statements.increment();
    }
    return invoke(target, method, args);
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @FunctionalInterface
  private interface Handler {
    Object handle(Object target, Method method, Object[] args) throws Throwable;
  }

  private static <T> T proxy(Class<T> type, Object target, Handler handler) {
    InvocationHandler h =
        (self, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
              case "equals" -> self == args[0];
              case "hashCode" -> System.identityHashCode(self);
              default -> "Counted[" + target + "]";
            };
          }
          return handler.handle(target, method, args);
        };
    return type.cast(
        Proxy.newProxyInstance(StatementCounter.class.getClassLoader(), new Class<?>[] {type}, h));
  }
}
