package io.pgsession.tomcat;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/** Wraps a DataSource and counts the SQL statements prepared or created on its connections. */
final class CountingDataSource {
  private final AtomicInteger statements = new AtomicInteger();
  private final DataSource proxy;

  CountingDataSource(DataSource target) {
    this.proxy =
        (DataSource)
            Proxy.newProxyInstance(
                DataSource.class.getClassLoader(),
                new Class<?>[] {DataSource.class},
                forward(target, this::wrapConnection));
  }

  DataSource dataSource() {
    return proxy;
  }

  int statements() {
    return statements.get();
  }

  void reset() {
    statements.set(0);
  }

  private Object wrapConnection(Object result) {
    if (!(result instanceof Connection c)) {
      return result;
    }
    InvocationHandler counting =
        (p, method, args) -> {
          String name = method.getName();
          if (name.equals("prepareStatement")
              || name.equals("createStatement")
              || name.equals("prepareCall")) {
            statements.incrementAndGet();
          }
          return invoke(c, method, args);
        };
    return Proxy.newProxyInstance(
        Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, counting);
  }

  private static InvocationHandler forward(
      Object target, java.util.function.UnaryOperator<Object> wrap) {
    return (p, method, args) -> wrap.apply(invoke(target, method, args));
  }

  private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args)
      throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
