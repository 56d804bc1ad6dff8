package io.pgsession.testing;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * A {@link DataSource} that passes everything to a real one and records every SQL statement
 * executed through the connections it hands out, so a test can assert how many statements an
 * operation costs.
 *
 * <p>A statement counts once per {@code execute}, {@code executeQuery}, {@code executeUpdate},
 * {@code executeLargeUpdate} or {@code executeBatch} call; preparing a statement costs nothing, as
 * it sends nothing to the server until it is executed. Thread-safe.
 */
public final class CountingDataSource {
  private final DataSource target;
  private final List<String> statements = new CopyOnWriteArrayList<>();
  private final DataSource proxy;

  private CountingDataSource(DataSource target) {
    this.target = target;
    this.proxy = proxy(DataSource.class, target, this::dataSourceCall);
  }

  /** Counts the statements run through connections of {@code target}. */
  public static CountingDataSource wrap(DataSource target) {
    return new CountingDataSource(target);
  }

  /** The counting data source to hand to the code under test. */
  public DataSource dataSource() {
    return proxy;
  }

  /** The statements executed since the last {@link #reset()}, in order. */
  public List<String> statements() {
    return List.copyOf(statements);
  }

  /** The statements since the last {@link #reset()} other than reads ({@code SELECT}), in order. */
  public List<String> writes() {
    return statements.stream().filter(s -> !s.startsWith("SELECT")).toList();
  }

  /** How many statements were executed since the last {@link #reset()}. */
  public int count() {
    return statements.size();
  }

  /** Forgets the statements counted so far. */
  public void reset() {
    statements.clear();
  }

  /** The number of statements {@code action} executes. */
  public int countOf(Runnable action) {
    int before = statements.size();
    action.run();
    return statements.size() - before;
  }

  private Object dataSourceCall(Method method, Object[] args) throws Throwable {
    Object result = invoke(target, method, args);
    return result instanceof Connection c
        ? proxy(Connection.class, c, (m, a) -> connectionCall(c, m, a))
        : result;
  }

  private Object connectionCall(Connection c, Method method, Object[] args) throws Throwable {
    Object result = invoke(c, method, args);
    if (result instanceof Statement s && Statement.class.isAssignableFrom(method.getReturnType())) {
      // Prepared and callable statements carry their SQL from the prepare call.
      String sql = s instanceof PreparedStatement ? String.valueOf(args[0]) : null;
      return proxy(method.getReturnType(), s, (m, a) -> statementCall(s, sql, m, a));
    }
    return result;
  }

  private Object statementCall(
      Statement s, @Nullable String preparedSql, Method method, Object[] args) throws Throwable {
    if (method.getName().startsWith("execute")) {
      boolean hasSql = args != null && args.length > 0 && args[0] instanceof String;
      statements.add(hasSql ? (String) args[0] : String.valueOf(preparedSql));
    }
    return invoke(s, method, args);
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @FunctionalInterface
  private interface Call {
    Object run(Method method, Object[] args) throws Throwable;
  }

  private static <T> T proxy(Class<T> type, Object target, Call call) {
    @SuppressWarnings("unchecked")
    T typed = (T) proxyOf(type, target, call);
    return typed;
  }

  private static Object proxyOf(Class<?> type, Object target, Call call) {
    InvocationHandler handler =
        (p, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
              case "equals" -> p == args[0];
              case "hashCode" -> System.identityHashCode(p);
              default -> "Counting" + type.getSimpleName() + "[" + target + "]";
            };
          }
          return call.run(method, args);
        };
    return Proxy.newProxyInstance(
        CountingDataSource.class.getClassLoader(), new Class<?>[] {type}, handler);
  }
}
