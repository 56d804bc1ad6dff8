package io.pgsession.contract;

import io.pgsession.PgSessionConfig;
import io.pgsession.PgSessionStore;
import io.pgsession.SessionRecord;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/** The contract, run on the core store as a container adapter would drive it. */
class CoreStoreContractTest extends SessionStoreContract {
  @Override
  protected ContractSubject newSubject(DataSource dataSource, PgSessionConfig config) {
    return new CoreSubject(new PgSessionStore(dataSource, config, getClass().getClassLoader()));
  }

  /** Drives {@link PgSessionStore} the way an adapter does, one record per request. */
  private record CoreSubject(PgSessionStore store) implements ContractSubject {
    @Override
    public void create(String id, Map<String, Object> attributes, int maxInactiveSeconds) {
      SessionRecord r = new SessionRecord(id, System.currentTimeMillis(), maxInactiveSeconds);
      r.attributes().putAll(attributes);
      store.save(r);
    }

    @Override
    public @Nullable Map<String, Object> load(String id) {
      SessionRecord r = live(id);
      return r == null ? null : new LinkedHashMap<>(r.attributes());
    }

    @Override
    public void update(String id, Map<String, Object> set, Set<String> removed) {
      SessionRecord r = accessed(id);
      r.attributes().putAll(set);
      r.attributes().keySet().removeAll(removed);
      store.save(r);
    }

    @Override
    public void access(String id) {
      store.save(accessed(id));
    }

    @Override
    public boolean exists(String id) {
      return store.exists(id);
    }

    @Override
    public void invalidate(String id) {
      store.delete(id);
    }

    @Override
    public void changeId(String oldId, String newId) {
      store.changeId(oldId, newId);
    }

    @Override
    public String sid(String id) {
      return id;
    }

    @Override
    public void close() {}

    private @Nullable SessionRecord live(String id) {
      SessionRecord r = store.load(id);
      return r == null || r.isExpiredAt(System.currentTimeMillis()) ? null : r;
    }

    private SessionRecord accessed(String id) {
      SessionRecord r = live(id);
      if (r == null) {
        throw new IllegalStateException("no live session " + id);
      }
      long now = System.currentTimeMillis();
      r.lastAccessed(r.accessed()).accessed(now);
      r.expiry(SessionRecord.expiryFor(now, r.maxInactiveSeconds()));
      return r;
    }
  }
}
