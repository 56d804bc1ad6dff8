package io.pgsession.tomcat;

import io.pgsession.PgSessionConfig;
import io.pgsession.contract.ContractSubject;
import io.pgsession.contract.SessionStoreContract;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Session;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.jspecify.annotations.Nullable;

/** The store contract, run on {@link PgSessionManager} in an embedded Tomcat. */
class TomcatManagerContractTest extends SessionStoreContract {
  @Override
  protected ContractSubject newSubject(DataSource dataSource, PgSessionConfig config) {
    return new ManagerSubject(dataSource, config);
  }

  /**
   * Drives the manager as Tomcat's request processing does: each operation runs in a request scope
   * of its own, and the scope's end saves, as the manager's valve does.
   */
  private static final class ManagerSubject implements ContractSubject {
    private final Tomcat tomcat = new Tomcat();
    private final PgSessionManager manager = new PgSessionManager();

    ManagerSubject(DataSource dataSource, PgSessionConfig config) {
      try {
        Path base = Files.createTempDirectory("pgsession-contract");
        tomcat.setBaseDir(base.toString());
        tomcat.getEngine().setName("contract-" + System.nanoTime());
        Connector connector = new Connector("HTTP/1.1");
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        File docBase = base.resolve("contract").toFile();
        docBase.mkdirs();
        Context ctx = tomcat.addContext("/contract", docBase.getAbsolutePath());
        manager.setDataSource(dataSource);
        manager.setConfig(config);
        ctx.setManager(manager);
        tomcat.start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (LifecycleException e) {
        throw new IllegalStateException(e);
      }
    }

    private <T> T inRequest(Function<PgSessionManager, T> work) {
      RequestScope scope = new RequestScope();
      RequestScope previous = manager.bind(scope);
      T result;
      try {
        result = work.apply(manager);
      } finally {
        manager.unbind(previous);
      }
      manager.finish(scope);
      return result;
    }

    private static @Nullable Session live(PgSessionManager m, String id) {
      Session s = m.findSession(id);
      return s == null || !s.isValid() ? null : s;
    }

    private static Session accessed(PgSessionManager m, String id) {
      Session s = live(m, id);
      if (s == null) {
        throw new IllegalStateException("no live session " + id);
      }
      s.access();
      return s;
    }

    @Override
    public void create(String id, Map<String, Object> attributes, int maxInactiveSeconds) {
      inRequest(
          m -> {
            Session s = m.createSession(id);
            s.setMaxInactiveInterval(maxInactiveSeconds);
            attributes.forEach(s.getSession()::setAttribute);
            return null;
          });
    }

    @Override
    public @Nullable Map<String, Object> load(String id) {
      return inRequest(
          m -> {
            Session s = live(m, id);
            return s == null ? null : new LinkedHashMap<>(((PgSession) s).attributeMap());
          });
    }

    @Override
    public void update(String id, Map<String, Object> set, Set<String> removed) {
      inRequest(
          m -> {
            Session s = accessed(m, id);
            set.forEach(s.getSession()::setAttribute);
            removed.forEach(s.getSession()::removeAttribute);
            return null;
          });
    }

    @Override
    public void access(String id) {
      inRequest(m -> accessed(m, id));
    }

    @Override
    public boolean exists(String id) {
      return manager.store().exists(manager.sidOf(id));
    }

    @Override
    public void invalidate(String id) {
      inRequest(
          m -> {
            accessed(m, id).getSession().invalidate();
            return null;
          });
    }

    @Override
    public void changeId(String oldId, String newId) {
      inRequest(
          m -> {
            m.changeSessionId(accessed(m, oldId), newId);
            return null;
          });
    }

    @Override
    public String sid(String id) {
      return manager.sidOf(id);
    }

    @Override
    public void close() {
      try {
        tomcat.stop();
        tomcat.destroy();
      } catch (LifecycleException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
