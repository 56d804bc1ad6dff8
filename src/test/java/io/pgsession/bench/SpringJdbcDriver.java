package io.pgsession.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.session.Session;
import org.springframework.session.SessionRepository;
import org.springframework.session.jdbc.JdbcIndexedSessionRepository;
import org.springframework.session.jdbc.PostgreSqlJdbcIndexedSessionRepositoryCustomizer;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Spring Session JDBC's {@link JdbcIndexedSessionRepository} with its PostgreSQL upsert customizer
 * and the schema its jar ships, driven the way {@code SessionRepositoryFilter} drives it: {@code
 * findById} and {@code setLastAccessedTime} when the request asks for its session, {@code save}
 * when the request commits, {@code deleteById} on invalidation. Its default flush and save modes;
 * no cleanup task runs.
 */
final class SpringJdbcDriver implements StoreDriver<Session> {
  private static final String SCHEMA = "org/springframework/session/jdbc/schema-postgresql.sql";

  private final DataSource dataSource;
  private final SessionRepository<Session> repository;

  SpringJdbcDriver(DataSource dataSource, int maxInactiveSeconds) {
    this.dataSource = dataSource;
    JdbcIndexedSessionRepository jdbc =
        new JdbcIndexedSessionRepository(
            new JdbcTemplate(dataSource),
            new TransactionTemplate(new DataSourceTransactionManager(dataSource)));
    jdbc.setDefaultMaxInactiveInterval(Duration.ofSeconds(maxInactiveSeconds));
    new PostgreSqlJdbcIndexedSessionRepositoryCustomizer().customize(jdbc);
    // Its session class is not public; its Session-typed methods are.
    @SuppressWarnings("unchecked")
    SessionRepository<Session> typed = (SessionRepository<Session>) (SessionRepository<?>) jdbc;
    this.repository = typed;
  }

  @Override
  public String name() {
    return "Spring Session JDBC";
  }

  @Override
  public void clear() throws SQLException, IOException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      if (!tableExists(s)) {
        for (String ddl : schema().split(";")) {
          if (!ddl.isBlank()) {
            s.execute(ddl);
          }
        }
      }
      s.execute("TRUNCATE spring_session, spring_session_attributes");
    }
  }

  private static boolean tableExists(Statement s) throws SQLException {
    try (var rs = s.executeQuery("SELECT to_regclass('spring_session') IS NOT NULL")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  private static String schema() throws IOException {
    try (InputStream in =
        JdbcIndexedSessionRepository.class.getClassLoader().getResourceAsStream(SCHEMA)) {
      if (in == null) {
        throw new IOException(SCHEMA + " is not on the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Override
  public String create(String id, long now, Map<String, Object> attributes) {
    Session session = repository.createSession();
    attributes.forEach(session::setAttribute);
    repository.save(session);
    return session.getId();
  }

  @Override
  public @Nullable Session open(String id, long now) {
    Session session = repository.findById(id);
    if (session != null) {
      session.setLastAccessedTime(Instant.ofEpochMilli(now));
    }
    return session;
  }

  @Override
  public @Nullable Object get(Session session, String name) {
    return session.getAttribute(name);
  }

  @Override
  public void set(Session session, String name, Object value) {
    session.setAttribute(name, value);
  }

  @Override
  public void finish(Session session, long now) {
    repository.save(session);
  }

  @Override
  public void invalidate(Session session) {
    repository.deleteById(session.getId());
  }
}
