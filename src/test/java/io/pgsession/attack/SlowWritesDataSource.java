package io.pgsession.attack;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * A {@link DataSource} over a real one whose {@code INSERT}, {@code UPDATE} and {@code DELETE}
 * statements take a given extra time, as on a slow database link, so that a test can tell whether a
 * response waited for the save of its session; or wait for a test to let them go, to order them
 * against others.
 */
public final class SlowWritesDataSource {
  private SlowWritesDataSource() {}

  public static DataSource wrap(DataSource target, Duration delay) {
    return wrap(target, () -> LockSupport.parkNanos(delay.toNanos()));
  }

  /** Runs {@code beforeWrite} on the writing thread before each write. */
  public static DataSource wrap(DataSource target, Runnable beforeWrite) {
    return proxy(
        DataSource.class,
        target,
        (method, args, result) ->
            result instanceof Connection c
                ? proxy(Connection.class, c, (m, a, r) -> statement(m, a, r, beforeWrite))
                : result);
  }

  private static Object statement(
      Method method, Object[] args, Object result, Runnable beforeWrite) {
    if (result instanceof PreparedStatement ps && method.getName().equals("prepareStatement")) {
      String sql = String.valueOf(args[0]).stripLeading();
      boolean write =
          sql.startsWith("INSERT") || sql.startsWith("UPDATE") || sql.startsWith("DELETE");
      return proxy(
          PreparedStatement.class,
          ps,
          (m, a, r) -> r,
          m -> {
            if (write && m.getName().startsWith("execute")) {
              beforeWrite.run();
            }
          });
    }
    return result;
  }

  @FunctionalInterface
  private interface After {
    Object apply(Method method, Object[] args, Object result) throws Throwable;
  }

  @FunctionalInterface
  private interface Before {
    void run(Method method);
  }

  private static <T> T proxy(Class<T> type, Object target, After after) {
    return proxy(type, target, after, m -> {});
  }

  private static <T> T proxy(Class<T> type, Object target, After after, Before before) {
    Object p =
        Proxy.newProxyInstance(
            SlowWritesDataSource.class.getClassLoader(),
            new Class<?>[] {type},
            (self, method, args) -> {
              if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                  case "equals" -> self == args[0];
                  case "hashCode" -> System.identityHashCode(self);
                  default -> "Slow" + type.getSimpleName() + "[" + target + "]";
                };
              }
              before.run(method);
              try {
                return after.apply(method, args, method.invoke(target, args));
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
    return type.cast(p);
  }
}
