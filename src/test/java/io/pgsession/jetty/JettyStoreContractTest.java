package io.pgsession.jetty;

import io.pgsession.PgSessionConfig;
import io.pgsession.contract.ContractSubject;
import io.pgsession.contract.SessionStoreContract;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.session.SessionData;
import org.jspecify.annotations.Nullable;

/**
 * The store contract, run on {@link PgSessionDataStore} inside a started Jetty context ({@code
 * /shop}, so row keys carry the context prefix), driven through Jetty's data store SPI the way
 * Jetty's session cache drives it.
 */
class JettyStoreContractTest extends SessionStoreContract {
  @Override
  protected ContractSubject newSubject(DataSource dataSource, PgSessionConfig config) {
    PgSessionDataStoreFactory factory = new PgSessionDataStoreFactory();
    factory.setDataSource(dataSource);
    factory.setConfig(config);
    Server server = new Server();
    ServletContextHandler context =
        new ServletContextHandler("/shop", ServletContextHandler.SESSIONS);
    PgSessions.install(context.getSessionHandler(), factory);
    server.setHandler(context);
    try {
      server.start();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start Jetty", e);
    }
    PgSessionDataStore store =
        (PgSessionDataStore) context.getSessionHandler().getSessionCache().getSessionDataStore();
    return new JettySubject(server, store);
  }

  /** Each operation uses fresh session data, as Jetty does for each request without a cache. */
  private record JettySubject(Server server, PgSessionDataStore store) implements ContractSubject {
    @Override
    public void create(String id, Map<String, Object> attributes, int maxInactiveSeconds) {
      long now = System.currentTimeMillis();
      SessionData data = store.newSessionData(id, now, now, now, maxInactiveSeconds * 1000L);
      attributes.forEach(data::setAttribute);
      perform(() -> store.store(id, data));
    }

    @Override
    public @Nullable Map<String, Object> load(String id) {
      SessionData data = live(id);
      return data == null ? null : new LinkedHashMap<>(data.getAllAttributes());
    }

    @Override
    public void update(String id, Map<String, Object> set, Set<String> removed) {
      SessionData data = accessed(id);
      set.forEach(data::setAttribute);
      removed.forEach(name -> data.setAttribute(name, null));
      perform(() -> store.store(id, data));
    }

    @Override
    public void access(String id) {
      SessionData data = accessed(id);
      perform(() -> store.store(id, data));
    }

    @Override
    public boolean exists(String id) {
      return call(() -> store.exists(id));
    }

    @Override
    public void invalidate(String id) {
      perform(() -> store.delete(id));
    }

    /** What Jetty's session cache does when it renews an id. */
    @Override
    public void changeId(String oldId, String newId) {
      SessionData data = accessed(oldId);
      data.setId(newId);
      data.setLastSaved(0);
      data.setDirty(true);
      perform(() -> store.delete(oldId));
      perform(() -> store.store(newId, data));
    }

    @Override
    public String sid(String id) {
      return store.sidPrefix() + id;
    }

    @Override
    public void close() {
      perform(server::stop);
    }

    private @Nullable SessionData live(String id) {
      SessionData data = call(() -> store.load(id));
      return data == null || data.isExpiredAt(System.currentTimeMillis()) ? null : data;
    }

    private SessionData accessed(String id) {
      SessionData data = live(id);
      if (data == null) {
        throw new IllegalStateException("no live session " + id);
      }
      long now = System.currentTimeMillis();
      data.setLastAccessed(data.getAccessed());
      data.setAccessed(now);
      data.calcAndSetExpiry(now);
      return data;
    }

    private static void perform(Step step) {
      call(
          () -> {
            step.run();
            return null;
          });
    }

    private static <T> T call(Work<T> work) {
      try {
        return work.run();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @FunctionalInterface
  private interface Work<T> {
    T run() throws Exception;
  }

  @FunctionalInterface
  private interface Step {
    void run() throws Exception;
  }
}
