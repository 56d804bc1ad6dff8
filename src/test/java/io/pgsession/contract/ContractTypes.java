package io.pgsession.contract;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Application types stored by the contract suite; their package is on the allowlist. */
public final class ContractTypes {
  private ContractTypes() {}

  public enum Color {
    RED,
    GREEN {
      @Override
      public String toString() {
        return "green, with a body";
      }
    }
  }

  public record Item(String sku, int quantity, BigDecimal price) {}

  public record Cart(String owner, List<Item> items, Color color, Object note) {}

  /** An ordinary bean: a no-argument constructor, private fields, getters and setters. */
  public static class Profile {
    private String name;
    private long id;
    private List<String> tags = new ArrayList<>();

    public Profile() {}

    public Profile(String name, long id, List<String> tags) {
      this.name = name;
      this.id = id;
      this.tags = tags;
    }

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public long getId() {
      return id;
    }

    public void setId(long id) {
      this.id = id;
    }

    public List<String> getTags() {
      return tags;
    }

    public void setTags(List<String> tags) {
      this.tags = tags;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Profile p
          && Objects.equals(name, p.name)
          && id == p.id
          && Objects.equals(tags, p.tags);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, id, tags);
    }
  }
}
