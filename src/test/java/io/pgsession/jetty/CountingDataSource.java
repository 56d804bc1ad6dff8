package io.pgsession.jetty;

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

/**
 * Wraps a data source and records every SQL statement executed through it, so that tests can count
 * what a request costs.
 */
final class CountingDataSource {
  private final List<String> executed = new CopyOnWriteArrayList<>();
  private final DataSource proxy;

  CountingDataSource(DataSource target) {
    this.proxy = proxy(DataSource.class, target, null);
  }

  DataSource dataSource() {
    return proxy;
  }

  /** The statements executed since the last {@link #reset()}, in order. */
  List<String> statements() {
    return List.copyOf(executed);
  }

  void reset() {
    executed.clear();
  }

  private <T> T proxy(Class<T> type, Object target, String sql) {
    InvocationHandler handler = (p, method, args) -> invoke(target, method, args, sql);
    return type.cast(
        Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {type}, handler));
  }

  private Object invoke(Object target, Method method, Object[] args, String sql) throws Throwable {
    String name = method.getName();
    if (name.startsWith("execute")) {
      executed.add(sql != null ? sql : String.valueOf(args == null ? "" : args[0]));
    }
    Object result;
    try {
      result = method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
    if (result instanceof Connection c) {
      return proxy(Connection.class, c, null);
    }
    if (result instanceof PreparedStatement ps) {
      return proxy(PreparedStatement.class, ps, (String) args[0]);
    }
    if (result instanceof Statement s && !(result instanceof PreparedStatement)) {
      return proxy(Statement.class, s, null);
    }
    return result;
  }
}
