package io.pgsession.valuetypes;

import java.util.List;
import java.util.Objects;

/** Application types for the codec tests; their package is put on the allowlist. */
public final class ValueTypes {
  private ValueTypes() {}

  public enum Level {
    LOW,
    HIGH
  }

  /** A record with a field of static type Object. */
  public record Holder(String name, Object value) {}

  public record Point(int x, int y) {}

  public record Nested(List<Point> points, Level level, Holder holder) {}

  /** Allowed, but with no no-argument constructor and not a record. */
  public static final class NoDefaultConstructor {
    private final String text;

    public NoDefaultConstructor(String text) {
      this.text = text;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof NoDefaultConstructor n && Objects.equals(text, n.text);
    }

    @Override
    public int hashCode() {
      return Objects.hashCode(text);
    }
  }
}
