package io.pgsession;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.CharArrayWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
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

  private final ObjectMapper mapper;
  private final JsonFactory factory;
  private final ValueCodec values;

  SessionDocument(ValueCodec values) {
    this.values = values;
    this.factory =
        JsonFactory.builder()
            // Names and strings as long as the writer may write them (the size of a session is
            // bounded by maxSessionBytes), so that whatever was saved can be read back.
            .streamReadConstraints(
                StreamReadConstraints.builder()
                    .maxNestingDepth(200)
                    .maxNameLength(Integer.MAX_VALUE)
                    .maxStringLength(Integer.MAX_VALUE)
                    .build())
            .build();
    this.mapper = new ObjectMapper(factory);
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
    try {
      return values.read(mapper.readTree(json));
    } catch (IOException e) {
      throw new CodecException("not valid JSON: " + e.getMessage(), e);
    }
  }

  /** The whole document for a record whose attributes are already encoded. */
  String assemble(SessionRecord r, Map<String, String> attributeJson, long version) {
    CharArrayWriter out = new CharArrayWriter(256 + attributeJson.size() * 32);
    try (JsonGenerator g = factory.createGenerator(out)) {
      g.writeStartObject();
      writeCookie(g, r);
      writeMeta(g, r, version);
      for (Map.Entry<String, String> attribute : attributeJson.entrySet()) {
        g.writeFieldName(keyOf(attribute.getKey()));
        g.writeRawValue(attribute.getValue());
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static void writeCookie(JsonGenerator g, SessionRecord r) throws IOException {
    g.writeObjectFieldStart(COOKIE);
    if (r.maxInactiveSeconds() > 0) {
      g.writeNumberField("originalMaxAge", r.maxInactiveSeconds() * 1000L);
    } else {
      g.writeNullField("originalMaxAge");
    }
    if (r.expiry() > 0) {
      g.writeStringField("expires", Instant.ofEpochMilli(r.expiry()).toString());
    } else {
      g.writeNullField("expires");
    }
    g.writeBooleanField("httpOnly", true);
    g.writeStringField("path", r.context().isEmpty() ? "/" : r.context());
    g.writeEndObject();
  }

  private static void writeMeta(JsonGenerator g, SessionRecord r, long version) throws IOException {
    g.writeObjectFieldStart(META);
    g.writeNumberField("format", FORMAT);
    g.writeNumberField("version", version);
    g.writeStringField("context", r.context());
    g.writeNumberField("created", r.created());
    g.writeNumberField("accessed", r.accessed());
    g.writeNumberField("lastAccessed", r.lastAccessed());
    g.writeNumberField("maxInactive", r.maxInactiveSeconds());
    if (r.lastNode() != null) {
      g.writeStringField("node", r.lastNode());
    }
    g.writeEndObject();
  }

  /**
   * Reads a stored document. {@code expiry} is the row's {@code expire} column in epoch
   * milliseconds (0 for never), which is the truth when a touch has moved it since the document was
   * written. Throws {@link CodecException} for anything that is not a readable document.
   */
  SessionRecord decode(String sid, String json, long expiry, long now) {
    JsonNode cookie = null;
    JsonNode meta = null;
    Map<String, Object> attributes = new LinkedHashMap<>();
    Map<String, String> raw = new LinkedHashMap<>();
    try (JsonParser p = factory.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new CodecException("the document is not a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        p.nextToken();
        int start = (int) p.currentTokenLocation().getCharOffset();
        JsonNode node = mapper.readTree(p);
        int end = (int) p.currentLocation().getCharOffset();
        switch (key) {
          case COOKIE -> cookie = node;
          case META -> meta = node;
          default -> {
            String name = attributeOf(key);
            try {
              attributes.put(name, values.read(node));
            } catch (CodecException e) {
              throw new CodecException("attribute '" + name + "': " + e.getMessage(), e);
            }
            raw.put(name, json.substring(start, end));
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
    return toRecord(sid, cookie, meta, attributes, raw, expiry, now);
  }

  private static SessionRecord toRecord(
      String sid,
      @Nullable JsonNode cookie,
      @Nullable JsonNode meta,
      Map<String, Object> attributes,
      Map<String, String> raw,
      long expiry,
      long now) {
    if (meta != null && !meta.isObject()) {
      throw new CodecException("\"" + META + "\" is not an object");
    }
    int maxInactive = maxInactiveOf(meta, cookie, expiry, now);
    long derivedAccess =
        expiry > 0 && maxInactive > 0 ? expiry - maxInactive * 1000L : Long.MIN_VALUE;
    long accessed = Math.max(millis(meta, "accessed", derivedAccess), derivedAccess);
    if (accessed == Long.MIN_VALUE) {
      accessed = now;
    }
    SessionRecord r = new SessionRecord(sid, millis(meta, "created", accessed), maxInactive);
    r.accessed(accessed)
        .lastAccessed(millis(meta, "lastAccessed", accessed))
        .expiry(expiry)
        .context(meta != null ? meta.path("context").asText("/") : "/")
        .lastNode(meta != null && meta.hasNonNull("node") ? meta.get("node").asText() : null);
    r.attributes().putAll(attributes);
    long version = versionOf(meta);
    r.baseline = new SessionRecord.Baseline(version, null, expiry, maxInactive, raw);
    return r;
  }

  /**
   * The document's version counter. It is informational (saves detect concurrent writes through the
   * row's {@code xmin}), so a value another writer mangled counts as 0.
   */
  private static long versionOf(@Nullable JsonNode meta) {
    JsonNode version = meta == null ? null : meta.get("version");
    return version != null && version.isIntegralNumber() && version.canConvertToLong()
        ? version.longValue()
        : 0;
  }

  private static int maxInactiveOf(
      @Nullable JsonNode meta, @Nullable JsonNode cookie, long expiry, long now) {
    if (meta != null && meta.path("maxInactive").canConvertToInt()) {
      return meta.get("maxInactive").intValue();
    }
    // A row written by express-session: its cookie's maxAge is the inactivity interval.
    if (cookie != null && cookie.path("originalMaxAge").isNumber()) {
      return (int)
          Math.max(1, Math.min(Integer.MAX_VALUE, cookie.get("originalMaxAge").asLong() / 1000));
    }
    return expiry > 0 ? (int) Math.max(1, (expiry - now) / 1000) : -1;
  }

  private static long millis(@Nullable JsonNode meta, String field, long fallback) {
    if (meta == null || !meta.path(field).canConvertToLong()) {
      return fallback;
    }
    return meta.get(field).longValue();
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
