package io.pgsession.project;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks docker-compose.yml as far as can be done without a Docker engine: it parses, and it wires
 * the services the README describes.
 */
class DockerComposeFileTest {
  private static JsonNode compose;

  @BeforeAll
  static void read() throws IOException {
    compose = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file()));
  }

  private static Path file() {
    return Path.of("docker-compose.yml");
  }

  @Test
  void postgresServiceUsesTheOfficialImageWithItsSettings() {
    JsonNode postgres = compose.path("services").path("postgres");

    assertThat(postgres.path("image").asText()).matches("postgres(:[0-9a-z.\\-]+)?");
    assertThat(fieldNames(postgres.path("environment")))
        .contains("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB");
  }

  @Test
  void postgresServiceHasAPgIsReadyHealthcheck() {
    JsonNode healthcheck = compose.path("services").path("postgres").path("healthcheck");

    assertThat(healthcheck.path("test").toString()).contains("pg_isready");
    assertThat(healthcheck.path("interval").asText()).isNotEmpty();
  }

  @Test
  void postgresDataLivesInADeclaredNamedVolume() {
    List<String> volumes = texts(compose.path("services").path("postgres").path("volumes"));

    assertThat(volumes).contains("pgdata:/var/lib/postgresql/data");
    assertThat(compose.path("volumes").has("pgdata")).isTrue();
  }

  @Test
  void initScriptDirectoryIsMountedWhereTheImageRunsIt() {
    List<String> volumes = texts(compose.path("services").path("postgres").path("volumes"));

    assertThat(volumes)
        .anySatisfy(
            v ->
                assertThat(v)
                    .startsWith("./docker-entrypoint-initdb.d:/docker-entrypoint-initdb.d"));
    assertThat(Path.of("docker-entrypoint-initdb.d", "init-session-table.sql")).isRegularFile();
  }

  @Test
  void demoRunsWithMavenAgainstThePostgresServiceOncePostgresIsHealthy() {
    JsonNode demo = compose.path("services").path("demo");

    assertThat(demo.path("image").asText()).isEqualTo("maven:3.9-eclipse-temurin-17");
    assertThat(texts(demo.path("command"))).containsSubsequence("test-compile", "exec:java");
    assertThat(demo.path("environment").path("DSN").asText()).contains("@postgres:5432/");
    assertThat(demo.path("environment").path("HOST").asText()).isEqualTo("0.0.0.0");
    assertThat(texts(demo.path("ports"))).containsExactly("127.0.0.1:8080:8080");
    assertThat(texts(demo.path("volumes"))).anySatisfy(v -> assertThat(v).startsWith(".:"));
    assertThat(demo.path("depends_on").path("postgres").path("condition").asText())
        .isEqualTo("service_healthy");
  }

  @Test
  void demoDsnUsesTheCredentialsOfThePostgresService() {
    JsonNode env = compose.path("services").path("postgres").path("environment");
    String dsn = compose.path("services").path("demo").path("environment").path("DSN").asText();

    assertThat(dsn)
        .isEqualTo(
            "postgres://"
                + env.path("POSTGRES_USER").asText()
                + ":"
                + env.path("POSTGRES_PASSWORD").asText()
                + "@postgres:5432/"
                + env.path("POSTGRES_DB").asText());
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static List<String> texts(JsonNode array) {
    List<String> texts = new ArrayList<>();
    array.forEach(n -> texts.add(n.asText()));
    return texts;
  }

  @Test
  void everyPublishedPortIsOnTheHostsLoopbackOnly() {
    compose
        .path("services")
        .forEach(
            service ->
                assertThat(texts(service.path("ports")))
                    .isNotEmpty()
                    .allSatisfy(p -> assertThat(p).startsWith("127.0.0.1:")));
  }
}
