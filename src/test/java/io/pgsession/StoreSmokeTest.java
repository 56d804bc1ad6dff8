package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsession.testing.PostgresExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class StoreSmokeTest {
  @RegisterExtension static PostgresExtension pg = new PostgresExtension();

  @Test
  void savedSessionLoadsBack() {
    PgSessionStore store =
        new PgSessionStore(
            pg.dataSource(), PgSessionConfig.defaults(), getClass().getClassLoader());
    SessionRecord r = new SessionRecord("abc", System.currentTimeMillis(), 1800);
    r.attributes().put("visits", 3L);
    r.attributes().put("names", List.of("a", "b"));
    assertThat(store.save(r)).isEqualTo(PgSessionStore.SaveOutcome.INSERTED);
    SessionRecord back = store.load("abc");
    assertThat(back.attributes()).isEqualTo(r.attributes());
    assertThat(back.attributes().get("visits")).isInstanceOf(Long.class);
    assertThat(store.save(back)).isEqualTo(PgSessionStore.SaveOutcome.UNCHANGED);
  }
}
