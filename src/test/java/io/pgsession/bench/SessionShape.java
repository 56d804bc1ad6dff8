package io.pgsession.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The attributes a benchmark session starts with. Values are plain types every store can hold
 * (strings, longs, lists and maps of them), shared between sessions and never mutated.
 */
enum SessionShape {
  /** Three attributes, about 200 bytes of data. */
  SMALL {
    @Override
    Map<String, Object> build() {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("user", "ann.example@users.example.org (Ann Example, account 100042, plan basic)");
      a.put("roles", new ArrayList<>(List.of("reader", "commenter", "editor-of-team-17")));
      a.put("visits", 7L);
      return a;
    }
  },
  /** Fifty attributes, about 20 KB of data. */
  LARGE {
    @Override
    Map<String, Object> build() {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("visits", 7L);
      for (int i = 1; i < 50; i++) {
        a.put("attribute" + i, value(i));
      }
      return a;
    }

    private Object value(int i) {
      return switch (i % 3) {
        case 0 -> text(i, 390);
        case 1 -> {
          List<String> items = new ArrayList<>();
          for (int j = 0; j < 10; j++) {
            items.add(text(i * 10 + j, 30));
          }
          yield items;
        }
        default -> {
          Map<String, Object> m = new LinkedHashMap<>();
          for (int j = 0; j < 8; j++) {
            m.put("key" + j, j % 2 == 0 ? (Object) (long) (i * 1000 + j) : text(i + j, 36));
          }
          yield m;
        }
      };
    }
  };

  private final Map<String, Object> attributes = Collections.unmodifiableMap(build());

  abstract Map<String, Object> build();

  /** The same map for every session of the shape. */
  Map<String, Object> attributes() {
    return attributes;
  }

  static String text(int seed, int length) {
    StringBuilder sb = new StringBuilder(length);
    String words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod ";
    for (int i = 0; sb.length() < length; i++) {
      sb.append(words.charAt((seed * 7 + i) % words.length()));
    }
    return sb.toString();
  }
}
