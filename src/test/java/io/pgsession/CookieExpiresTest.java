package io.pgsession;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code cookie.expires} is written as express-session writes it (JavaScript's {@code
 * Date.toJSON}), so that both kinds of rows look alike to whoever reads the table.
 */
class CookieExpiresTest {
  private static final DateTimeFormatter JAVASCRIPT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  @Test
  void millisecondsAreAlwaysWritten() {
    assertThat(SessionDocument.isoMillis(0)).isEqualTo("1970-01-01T00:00:00.000Z");
    assertThat(SessionDocument.isoMillis(Instant.parse("2026-12-04T17:30:00Z").toEpochMilli()))
        .isEqualTo("2026-12-04T17:30:00.000Z");
    assertThat(SessionDocument.isoMillis(-1)).isEqualTo("1969-12-31T23:59:59.999Z");
    assertThat(SessionDocument.isoMillis(Instant.parse("2028-02-29T23:59:59.5Z").toEpochMilli()))
        .isEqualTo("2028-02-29T23:59:59.500Z");
  }

  @Test
  void everyInstantOfFourDigitYearsReadsBackTheSame() {
    SplittableRandom random = new SplittableRandom(42);
    long first = Instant.parse("0000-01-01T00:00:00Z").toEpochMilli();
    long last = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();
    for (int i = 0; i < 100_000; i++) {
      long millis = random.nextLong(first, last + 1);
      String written = SessionDocument.isoMillis(millis);
      assertThat(written).isEqualTo(JAVASCRIPT.format(Instant.ofEpochMilli(millis)));
      assertThat(Instant.parse(written).toEpochMilli()).isEqualTo(millis);
    }
  }

  @Test
  void yearsBeyondFourDigitsStillReadBack() {
    long far = Instant.parse("+12026-01-01T00:00:00Z").toEpochMilli();

    assertThat(Instant.parse(SessionDocument.isoMillis(far)).toEpochMilli()).isEqualTo(far);
  }
}
