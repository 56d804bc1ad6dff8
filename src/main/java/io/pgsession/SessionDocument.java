package io.pgsession;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.CharArrayWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The {@code sess} document: express-session's shape, so that connect-pg-simple can share the
 * table.
 *
 * <pre>{@code
 * {"cookie":    {"originalMaxAge": 1800000, "expires": "2026-12-04T17:30:00.000Z",
 *                "httpOnly": true, "path": "/"},
 *  "pgsession": {"format": 1, "version": 3, "context": "/", "created": ..., "accessed": ...,
 *                "lastAccessed": ..., "maxInactive": 1800, "node": "node0"},
 *  "user": "ann", "visits": {"@t": "long", "v": 7}}
 * }</pre>
 *
 * Attributes stand at the top level under their own names; a name that is one of the two reserved
 * keys, or starts with {@code ~}, is stored with one more {@code ~} in front.
 */
final class SessionDocument {
  static final String COOKIE = "cookie";
  static final String META = "pgsession";
  static final char ESCAPE = '~';
  private static final int FORMAT = 1;
  private static final String NUL_ESCAPE = "\\u0000";
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();
  private static final String LONG_PREFIX =
      "{\"" + ValueCodec.TYPE + "\":\"long\",\"" + ValueCodec.VALUE + "\":";

  private final JsonFactory factory = ValueCodec.JSON;
  private final ValueCodec values;

  SessionDocument(ValueCodec values) {
    this.values = values;
  }

  /** An attribute's stored key. */
  static String keyOf(String attribute) {
    boolean reserved =
        attribute.equals(COOKIE)
            || attribute.equals(META)
            || (!attribute.isEmpty() && attribute.charAt(0) == ESCAPE);
    return reserved ? ESCAPE + attribute : attribute;
  }

  /** The attribute name a stored key stands for. */
  static String attributeOf(String key) {
    return !key.isEmpty() && key.charAt(0) == ESCAPE ? key.substring(1) : key;
  }

  /** One attribute value as JSON text; throws {@link CodecException} if it cannot be stored. */
  String encodeValue(@Nullable Object value) {
    String plain = plainJson(value);
    return plain != null ? plain : encodeWithGenerator(value);
  }

  /**
   * The JSON of the commonest values (a string, a boolean, an int, a long) written directly, as the
   * generator writes it; {@code null} for any other value. Most sessions hold little else, and
   * making a generator costs more than writing one of these.
   */
  private static @Nullable String plainJson(@Nullable Object value) {
    if (value instanceof String s) {
      if (s.indexOf(0) >= 0) {
        return null;
      }
      ValueCodec.checkText(s);
      StringBuilder out = new StringBuilder(s.length() + 2);
      quote(out, s);
      return out.toString();
    }
    if (value instanceof Long l) {
      return new StringBuilder(40).append(LONG_PREFIX).append(l.longValue()).append('}').toString();
    }
    if (value instanceof Integer || value instanceof Boolean) {
      return value.toString();
    }
    return null;
  }

  /** As {@link #encodeValue}, always through Jackson's generator. */
  String encodeWithGenerator(@Nullable Object value) {
    // Not StringWriter: its StringBuffer copies char by char into a Latin-1 array, which costs
    // more than the JSON generation itself for large values.
    CharArrayWriter out = new CharArrayWriter(64);
    try (JsonGenerator g = factory.createGenerator(out)) {
      values.write(g, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** Reads one attribute value back from its JSON text. */
  @Nullable Object decodeValue(String json) {
    try (JsonParser p = factory.createParser(json)) {
      if (p.nextToken() == null) {
        throw new CodecException("not valid JSON: no value");
      }
      Object value = values.read(p, json);
      if (p.nextToken() != null) {
        throw new CodecException("not valid JSON: more than one value");
      }
      return value;
    } catch (IOException e) {
      throw new CodecException("not valid JSON: " + e.getMessage(), e);
    }
  }

  /**
   * The whole document for a record whose attributes are already encoded. Written by hand rather
   * than with a generator: its frame is fixed, its values are numbers and a few strings, and the
   * attributes' JSON goes in as it is.
   */
  String assemble(SessionRecord r, Map<String, String> attributeJson, long version) {
    // Sized for the whole document, so that a large one is not copied as the buffer grows.
    int size = 384;
    for (Map.Entry<String, String> attribute : attributeJson.entrySet()) {
      size += attribute.getKey().length() + attribute.getValue().length() + 8;
    }
    StringBuilder out = new StringBuilder(size);
    out.append("{\"" + COOKIE + "\":{\"originalMaxAge\":");
    if (r.maxInactiveSeconds() > 0) {
      out.append(r.maxInactiveSeconds() * 1000L);
    } else {
      out.append("null");
    }
    out.append(",\"expires\":");
    if (r.expiry() > 0) {
      out.append('"').append(isoMillis(r.expiry())).append('"');
    } else {
      out.append("null");
    }
    out.append(",\"httpOnly\":true,\"path\":");
    quote(out, r.context().isEmpty() ? "/" : r.context());
    out.append("},\"" + META + "\":{\"format\":").append(FORMAT);
    out.append(",\"version\":").append(version);
    out.append(",\"context\":");
    quote(out, r.context());
    out.append(",\"created\":").append(r.created());
    out.append(",\"accessed\":").append(r.accessed());
    out.append(",\"lastAccessed\":").append(r.lastAccessed());
    out.append(",\"maxInactive\":").append(r.maxInactiveSeconds());
    if (r.lastNode() != null) {
      out.append(",\"node\":");
      quote(out, r.lastNode());
    }
    out.append('}');
    for (Map.Entry<String, String> attribute : attributeJson.entrySet()) {
      out.append(',');
      quote(out, keyOf(attribute.getKey()));
      out.append(':').append(attribute.getValue());
    }
    return out.append('}').toString();
  }

  /**
   * Text as a JSON string, escaped as Jackson escapes it: quotes, backslashes and control
   * characters; everything else as it is.
   */
  static void quote(StringBuilder out, String text) {
    out.append('"');
    int from = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') {
        continue;
      }
      out.append(text, from, i);
      from = i + 1;
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
    out.append(text, from, text.length()).append('"');
  }

  /**
   * Reads a stored document. {@code expiry} is the row's {@code expire} column in epoch
   * milliseconds (0 for never), which is the truth when a touch has moved it since the document was
   * written. {@code json} is the document in UTF-8, as the database sends it. Throws {@link
   * CodecException} for anything that is not a readable document.
   */
  SessionRecord decode(String sid, byte[] json, long expiry, long now) {
    return read(json).record(sid, expiry, now);
  }

  /**
   * Decodes a document into a record, and into a template that makes equal records again without
   * parsing while the row stays as it is; the template is {@code null} when a value has no snapshot
   * to copy (see {@link Snapshots}).
   */
  Decoded decodeReusable(String sid, byte[] json, long expiry, long now) {
    Read read = read(json);
    Template template =
        read.stored.snapshots().size() == read.stored.json().size()
            ? new Template(read.meta, read.originalMaxAge, read.stored)
            : null;
    return new Decoded(read.record(sid, expiry, now), template);
  }

  /**
   * The template for the document {@link #assemble} made of {@code r} with these attributes and
   * this version: the records it makes equal those a read of that document would give. {@code null}
   * when a value has no snapshot. The snapshots must be what the JSON was encoded from.
   */
  static @Nullable Template written(
      SessionRecord r,
      Map<String, String> attributeJson,
      Map<String, @Nullable Object> snapshots,
      long version) {
    if (snapshots.size() != attributeJson.size()
        || ValueCodec.unpairedSurrogate(r.context()) >= 0
        || (r.lastNode() != null && ValueCodec.unpairedSurrogate(r.lastNode()) >= 0)) {
      // An unpaired surrogate reaches the row as '?' (UTF-8 cannot carry it), so the record as
      // written is not what a read of the row gives.
      return null;
    }
    Meta m = new Meta();
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    m.version = nodes.numberNode(version);
    m.context = nodes.textNode(r.context());
    m.created = nodes.numberNode(r.created());
    m.accessed = nodes.numberNode(r.accessed());
    m.lastAccessed = nodes.numberNode(r.lastAccessed());
    m.maxInactive = nodes.numberNode(r.maxInactiveSeconds());
    m.node = r.lastNode() == null ? null : nodes.textNode(r.lastNode());
    // The cookie's originalMaxAge counts only where maxInactive is missing, and it never is here.
    return new Template(m, null, new Stored(attributeJson, snapshots));
  }

  /** A decoded record, and the template to make it again, if it has one. */
  record Decoded(SessionRecord record, @Nullable Template template) {}

  /**
   * What a document holds beyond its values, and the snapshots of its values: enough to make the
   * record again. Each record gets its own copies of the lists and maps; immutable values are
   * shared. Immutable itself, so any number of threads may use it.
   */
  static final class Template {
    private final Meta meta;
    private final @Nullable JsonNode originalMaxAge;
    private final Stored stored;
    private final String[] names;
    private final @Nullable Object[] snapshots;
    private final long footprint;

    private Template(Meta meta, @Nullable JsonNode originalMaxAge, Stored stored) {
      this.meta = meta;
      this.originalMaxAge = originalMaxAge;
      this.stored = stored;
      // Arrays beside the maps: record() runs on every cached read, and map lookups were most of
      // its time.
      // Sized here: given an empty array, the set makes its own by reflection.
      this.names = stored.json().keySet().toArray(new String[stored.json().size()]);
      this.snapshots = new Object[names.length];
      // The template, its metadata and its maps; then per attribute its name, its stored JSON,
      // the entries of the two maps and the arrays that hold it, and its snapshot.
      long bytes = 1024;
      for (int i = 0; i < names.length; i++) {
        snapshots[i] = stored.snapshots().get(names[i]);
        bytes +=
            Snapshots.textFootprint(names[i])
                + Snapshots.textFootprint(stored.json().get(names[i]))
                + 2 * 48
                + 16
                + Snapshots.footprint(snapshots[i]);
      }
      this.footprint = bytes;
    }

    /** An estimate of the heap this template takes, in bytes. */
    long footprint() {
      return footprint;
    }

    SessionRecord record(String sid, long expiry, long now) {
      Map<String, Object> attributes = new LinkedHashMap<>(Math.max(16, names.length * 4 / 3 + 1));
      for (int i = 0; i < names.length; i++) {
        attributes.put(names[i], Snapshots.of(snapshots[i]));
      }
      return toRecord(sid, meta, originalMaxAge, attributes, stored, expiry, now);
    }
  }

  /** A document as parsed: the values are the caller's, the rest may be kept. */
  private record Read(
      Meta meta, @Nullable JsonNode originalMaxAge, Map<String, Object> attributes, Stored stored) {
    SessionRecord record(String sid, long expiry, long now) {
      return toRecord(sid, meta, originalMaxAge, attributes, stored, expiry, now);
    }
  }

  private Read read(byte[] json) {
    JsonNode originalMaxAge = null;
    Meta meta = null;
    Map<String, Object> attributes = new LinkedHashMap<>();
    Map<String, String> raw = new LinkedHashMap<>();
    Map<String, @Nullable Object> snapshots = new HashMap<>();
    try (JsonParser p = factory.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new CodecException("the document is not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        p.nextToken();
        switch (key) {
          case COOKIE -> originalMaxAge = readOriginalMaxAge(p);
          case META -> meta = Meta.read(p);
          default -> {
            String name = attributeOf(key);
            int start = (int) ValueCodec.offset(p.currentTokenLocation());
            Object value;
            try {
              value = values.read(p, json);
            } catch (CodecException e) {
              throw new CodecException("attribute '" + name + "': " + e.getMessage(), e);
            }
            int end = (int) ValueCodec.offset(p.currentLocation());
            String stored = new String(json, start, end - start, StandardCharsets.UTF_8);
            attributes.put(name, value);
            raw.put(name, stored);
            Object snapshot = snapshotOf(value, stored);
            if (snapshot != Snapshots.NONE) {
              snapshots.put(name, snapshot);
            } else {
              // A repeated key: the snapshot of an earlier, overridden value must not stay.
              snapshots.remove(name);
            }
          }
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new CodecException("the document does not end where its object ends");
      }
    } catch (IOException e) {
      throw new CodecException(
          "the document is not valid JSON: "
              + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                  ? j.getOriginalMessage()
                  : e.getMessage()),
          e);
    }
    Meta m = meta != null ? meta : new Meta();
    return new Read(m, originalMaxAge, attributes, new Stored(raw, snapshots));
  }

  private static SessionRecord toRecord(
      String sid,
      Meta meta,
      @Nullable JsonNode originalMaxAge,
      Map<String, Object> attributes,
      Stored stored,
      long expiry,
      long now) {
    int maxInactive = maxInactiveOf(meta.maxInactive, originalMaxAge, expiry, now);
    long derivedAccess =
        expiry > 0 && maxInactive > 0 ? expiry - maxInactive * 1000L : Long.MIN_VALUE;
    long accessed = Math.max(millis(meta.accessed, derivedAccess), derivedAccess);
    if (accessed == Long.MIN_VALUE) {
      accessed = now;
    }
    SessionRecord r =
        new SessionRecord(sid, millis(meta.created, accessed), maxInactive, attributes);
    r.accessed(accessed)
        .lastAccessed(millis(meta.lastAccessed, accessed))
        .expiry(expiry)
        .context(meta.context != null ? meta.context.asText("/") : "/")
        .lastNode(meta.node != null && !meta.node.isNull() ? meta.node.asText() : null);
    r.baseline =
        new SessionRecord.Baseline(
            versionOf(meta.version), null, expiry, maxInactive, stored.json(), stored.snapshots());
    return r;
  }

  /**
   * The fields of the {@value #META} object that decoding uses, each as the JSON it holds; the
   * others are skipped unread.
   */
  private static final class Meta {
    @Nullable JsonNode version;
    @Nullable JsonNode context;
    @Nullable JsonNode created;
    @Nullable JsonNode accessed;
    @Nullable JsonNode lastAccessed;
    @Nullable JsonNode maxInactive;
    @Nullable JsonNode node;

    static Meta read(JsonParser p) throws IOException {
      if (p.currentToken() != JsonToken.START_OBJECT) {
        throw new CodecException("\"" + META + "\" is not an object");
      }
      Meta m = new Meta();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        p.nextToken();
        switch (name) {
          case "version" -> m.version = ValueCodec.readNode(p);
          case "context" -> m.context = ValueCodec.readNode(p);
          case "created" -> m.created = ValueCodec.readNode(p);
          case "accessed" -> m.accessed = ValueCodec.readNode(p);
          case "lastAccessed" -> m.lastAccessed = ValueCodec.readNode(p);
          case "maxInactive" -> m.maxInactive = ValueCodec.readNode(p);
          case "node" -> m.node = ValueCodec.readNode(p);
          default -> p.skipChildren();
        }
      }
      return m;
    }
  }

  /**
   * The {@code originalMaxAge} of express-session's cookie object, the only part of it decoding
   * uses; {@code null} when the cookie is not an object or has none.
   */
  private static @Nullable JsonNode readOriginalMaxAge(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      p.skipChildren();
      return null;
    }
    JsonNode found = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      if (name.equals("originalMaxAge")) {
        found = ValueCodec.readNode(p);
      } else {
        p.skipChildren();
      }
    }
    return found;
  }

  /** The attributes' JSON as stored, and the snapshots of the values read from it. */
  private record Stored(Map<String, String> json, Map<String, @Nullable Object> snapshots) {}

  /**
   * The document's version counter. It is informational (saves detect concurrent writes through the
   * row's {@code xmin}), so a value another writer mangled counts as 0.
   */
  private static long versionOf(@Nullable JsonNode version) {
    return version != null && version.isIntegralNumber() && version.canConvertToLong()
        ? version.longValue()
        : 0;
  }

  private static int maxInactiveOf(
      @Nullable JsonNode maxInactive, @Nullable JsonNode originalMaxAge, long expiry, long now) {
    if (maxInactive != null && maxInactive.canConvertToInt()) {
      return maxInactive.intValue();
    }
    // A row written by express-session: its cookie's maxAge is the inactivity interval.
    if (originalMaxAge != null && originalMaxAge.isNumber()) {
      return (int) Math.max(1, Math.min(Integer.MAX_VALUE, originalMaxAge.asLong() / 1000));
    }
    return expiry > 0 ? (int) Math.max(1, (expiry - now) / 1000) : -1;
  }

  private static long millis(@Nullable JsonNode field, long fallback) {
    return field != null && field.canConvertToLong() ? field.longValue() : fallback;
  }

  /**
   * An instant as JavaScript's {@code Date.toJSON} writes it, which is how express-session stores
   * {@code cookie.expires}: {@code 2026-12-04T17:30:00.000Z}, milliseconds always present. Years
   * outside 0000 to 9999 are written as {@link Instant#toString} writes them.
   */
  static String isoMillis(long epochMillis) {
    long day = Math.floorDiv(epochMillis, 86_400_000L);
    int millisOfDay = (int) Math.floorMod(epochMillis, 86_400_000L);
    LocalDate date = LocalDate.ofEpochDay(day);
    if (date.getYear() < 0 || date.getYear() > 9999) {
      return Instant.ofEpochMilli(epochMillis).toString();
    }
    char[] c = "0000-00-00T00:00:00.000Z".toCharArray();
    digits(c, 0, 4, date.getYear());
    digits(c, 5, 2, date.getMonthValue());
    digits(c, 8, 2, date.getDayOfMonth());
    digits(c, 11, 2, millisOfDay / 3_600_000);
    digits(c, 14, 2, millisOfDay / 60_000 % 60);
    digits(c, 17, 2, millisOfDay / 1000 % 60);
    digits(c, 20, 3, millisOfDay % 1000);
    return new String(c);
  }

  private static void digits(char[] into, int at, int count, int value) {
    for (int i = at + count - 1; i >= at; i--) {
      into[i] = (char) ('0' + value % 10);
      value /= 10;
    }
  }

  /**
   * The snapshot of a value read from {@code json}. JSON holding the escape {@code \u0000} (written
   * by another program) gets none, so the next save writes it in the form PostgreSQL's JSON
   * operators can read.
   */
  static @Nullable Object snapshotOf(@Nullable Object value, String json) {
    return json.contains(NUL_ESCAPE) ? Snapshots.NONE : Snapshots.of(value);
  }

  /** The length of the text in UTF-8 bytes, without encoding it. */
  static long utf8Length(String s) {
    long bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes++;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }
}
