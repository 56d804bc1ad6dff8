package io.pgsession;

/** Helpers for showing session ids, which may come from an attacker's cookie, in logs. */
final class SessionIds {
  private static final int MAX_SHOWN = 64;

  private SessionIds() {}

  /**
   * Returns the id in a form safe for one log line: control characters escaped and long ids cut, so
   * that a forged cookie cannot forge log lines or flood them.
   */
  static String forLog(String id) {
    StringBuilder out = new StringBuilder(Math.min(id.length(), MAX_SHOWN) + 16);
    int shown = Math.min(id.length(), MAX_SHOWN);
    for (int i = 0; i < shown; i++) {
      char c = id.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    if (id.length() > MAX_SHOWN) {
      out.append("...(").append(id.length()).append(" chars)");
    }
    return '"' + out.toString() + '"';
  }
}
