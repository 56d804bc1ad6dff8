package io.pgsession.attack;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.SQLTransientConnectionException;
import javax.sql.DataSource;

/**
 * A {@link DataSource} over a real one that can be switched off: while down, every {@code
 * getConnection} fails at once as a pool does whose database does not answer (SQLState 08001).
 * Thread-safe.
 */
public final class OutageDataSource {
  private final DataSource target;
  private volatile boolean down;

  private OutageDataSource(DataSource target) {
    this.target = target;
  }

  public static OutageDataSource wrap(DataSource target) {
    return new OutageDataSource(target);
  }

  public void down(boolean down) {
    this.down = down;
  }

  public DataSource dataSource() {
    return (DataSource)
        Proxy.newProxyInstance(
            OutageDataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection") && down) {
                throw new SQLTransientConnectionException(
                    "test outage: the database does not answer", "08001");
              }
              if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                  case "equals" -> proxy == args[0];
                  case "hashCode" -> System.identityHashCode(proxy);
                  default -> "OutageDataSource[" + target + "]";
                };
              }
              try {
                return method.invoke(target, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
