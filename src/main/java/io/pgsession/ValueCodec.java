package io.pgsession;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.Currency;
import java.util.Date;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.UUID;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Writes attribute values as JSON and reads them back as equal values of the same class.
 *
 * <p>Strings, booleans, {@code Integer}s, finite {@code Double}s, {@code ArrayList}s and
 * string-keyed {@code LinkedHashMap}s are written as plain JSON, and plain JSON is read back as
 * those classes. Every other value is written as {@code {"@t": type, "v": payload}}, where the type
 * is a short tag for JDK value types or a class name that the {@link TypeAllowlist} must accept
 * before the class is loaded. Records, enums and classes with a no-argument constructor (by their
 * fields) are supported from allowed packages.
 */
final class ValueCodec {
  static final String TYPE = "@t";
  static final String VALUE = "v";
  static final String ENTRIES = "e";

  /** The tag of a string holding NUL, stored as the parts between the NULs. */
  static final String TEXT_WITH_NUL = "String";

  private static final int MAX_DEPTH = 100;

  /**
   * Reads and writes session JSON. Names and strings may be as long as the writer may write them
   * (the size of a session is bounded by maxSessionBytes), so that whatever was saved can be read
   * back.
   */
  static final JsonFactory JSON =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(200)
                  .maxNameLength(Integer.MAX_VALUE)
                  .maxStringLength(Integer.MAX_VALUE)
                  .build())
          .build();

  private static final Map<Class<?>, Scalar> SCALARS_BY_CLASS = new HashMap<>();
  private static final Map<String, Scalar> SCALARS_BY_TAG = new HashMap<>();

  /** A value type written as a tag and a one-value payload. */
  private record Scalar(
      String tag, Class<?> type, boolean numeric, Function<JsonNode, Object> reader) {}

  static {
    numeric("long", Long.class, ValueCodec::readLong);
    numeric("short", Short.class, n -> (short) readInt(n, Short.MIN_VALUE, Short.MAX_VALUE));
    numeric("byte", Byte.class, n -> (byte) readInt(n, Byte.MIN_VALUE, Byte.MAX_VALUE));
    numeric("float", Float.class, ValueCodec::readFloat);
    numeric("double", Double.class, ValueCodec::readDouble);
    text("char", Character.class, ValueCodec::readChar);
    text("BigDecimal", BigDecimal.class, BigDecimal::new);
    text("BigInteger", BigInteger.class, BigInteger::new);
    text("UUID", UUID.class, UUID::fromString);
    text("Date", Date.class, s -> Date.from(Instant.parse(s)));
    text("Instant", Instant.class, Instant::parse);
    text("LocalDate", LocalDate.class, LocalDate::parse);
    text("LocalTime", LocalTime.class, LocalTime::parse);
    text("LocalDateTime", LocalDateTime.class, LocalDateTime::parse);
    text("OffsetDateTime", OffsetDateTime.class, OffsetDateTime::parse);
    text("OffsetTime", OffsetTime.class, OffsetTime::parse);
    text("ZonedDateTime", ZonedDateTime.class, ZonedDateTime::parse);
    text("Duration", Duration.class, Duration::parse);
    text("Period", Period.class, Period::parse);
    text("Year", Year.class, Year::parse);
    text("YearMonth", YearMonth.class, ValueCodec::readYearMonth);
    text("MonthDay", MonthDay.class, MonthDay::parse);
    text("ZoneId", ZoneId.class, ZoneId::of);
    text("Locale", Locale.class, Locale::forLanguageTag);
    text("Currency", Currency.class, Currency::getInstance);
    text("URI", URI.class, URI::create);
    text("byte[]", byte[].class, s -> Base64.getDecoder().decode(s));
    text("char[]", char[].class, String::toCharArray);
  }

  private final TypeAllowlist allowlist;
  private final ClassLoader loader;
  private final ClassValue<Shape> shapes =
      new ClassValue<>() {
        @Override
        protected Shape computeValue(Class<?> type) {
          return Shape.of(type);
        }
      };

  ValueCodec(TypeAllowlist allowlist, ClassLoader loader) {
    this.allowlist = allowlist;
    this.loader = loader;
  }

  // ---------------------------------------------------------------- writing

  void write(JsonGenerator g, @Nullable Object value) throws IOException {
    write(g, value, 0);
  }

  private void write(JsonGenerator g, @Nullable Object value, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new CodecException("it is nested more than " + MAX_DEPTH + " levels deep (a cycle?)");
    }
    if (value == null) {
      g.writeNull();
    } else if (value instanceof String s && s.indexOf(0) >= 0) {
      writeTextWithNul(g, s);
    } else if (value instanceof String s) {
      writeString(g, s);
    } else if (value instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (value instanceof Integer i) {
      g.writeNumber(i);
    } else if (value instanceof Double d && Double.isFinite(d)) {
      g.writeNumber(d);
    } else if (value.getClass() == ArrayList.class) {
      writeElements(g, (List<?>) value, depth);
    } else if (value.getClass() == LinkedHashMap.class && isPlainObject((Map<?, ?>) value)) {
      writeFields(g, (Map<?, ?>) value, depth);
    } else {
      writeTagged(g, value, depth);
    }
  }

  private void writeTagged(JsonGenerator g, Object value, int depth) throws IOException {
    Class<?> type = value.getClass();
    Scalar scalar = scalarFor(value);
    if (scalar != null) {
      g.writeStartObject();
      g.writeStringField(TYPE, scalar.tag());
      g.writeFieldName(VALUE);
      writeScalarPayload(g, scalar, value);
      g.writeEndObject();
      return;
    }
    if (type.isArray()) {
      writeArray(g, value, depth);
      return;
    }
    if (value instanceof Enum<?> e) {
      String name = requireAllowed(e.getDeclaringClass());
      g.writeStartObject();
      g.writeStringField(TYPE, name);
      g.writeStringField(VALUE, e.name());
      g.writeEndObject();
      return;
    }
    String tag = collectionTag(value);
    if (tag == null) {
      tag = requireAllowed(type);
    }
    g.writeStartObject();
    g.writeStringField(TYPE, tag);
    if (value instanceof Map<?, ?> map) {
      if (hasOnlyStringKeys(map)) {
        g.writeFieldName(VALUE);
        writeFields(g, map, depth);
      } else {
        g.writeFieldName(ENTRIES);
        writeEntries(g, map, depth);
      }
    } else if (value instanceof Collection<?> c) {
      g.writeFieldName(VALUE);
      writeElements(g, c, depth);
    } else {
      g.writeFieldName(VALUE);
      writeObject(g, value, depth);
    }
    g.writeEndObject();
  }

  private static @Nullable Scalar scalarFor(Object value) {
    Scalar scalar = SCALARS_BY_CLASS.get(value.getClass());
    if (scalar == null && value instanceof ZoneId) {
      return SCALARS_BY_TAG.get("ZoneId");
    }
    return scalar;
  }

  private static void writeScalarPayload(JsonGenerator g, Scalar scalar, Object value)
      throws IOException {
    if (value instanceof Long l) {
      g.writeNumber(l);
    } else if (value instanceof Short s) {
      g.writeNumber(s);
    } else if (value instanceof Byte b) {
      g.writeNumber(b);
    } else if (value instanceof Float f && Float.isFinite(f)) {
      g.writeNumber(f);
    } else if (value instanceof Double d && Double.isFinite(d)) {
      g.writeNumber(d);
    } else if (value instanceof byte[] bytes) {
      g.writeString(Base64.getEncoder().encodeToString(bytes));
    } else if (value instanceof Date date) {
      g.writeString(Instant.ofEpochMilli(date.getTime()).toString());
    } else if (value instanceof char[] chars) {
      writeString(g, new String(chars));
    } else if (value instanceof Locale locale) {
      g.writeString(languageTag(locale));
    } else {
      writeString(g, String.valueOf(value));
    }
  }

  private void writeArray(JsonGenerator g, Object array, int depth) throws IOException {
    Class<?> component = array.getClass().getComponentType();
    g.writeStartObject();
    g.writeStringField(TYPE, arrayTag(array.getClass()));
    g.writeFieldName(VALUE);
    int length = Array.getLength(array);
    g.writeStartArray();
    for (int i = 0; i < length; i++) {
      Object element = Array.get(array, i);
      if (component.isPrimitive()) {
        writePrimitive(g, element);
      } else {
        write(g, element, depth + 1);
      }
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void writePrimitive(JsonGenerator g, Object element) throws IOException {
    if (element instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (element instanceof Float f && !Float.isFinite(f)) {
      g.writeString(f.toString());
    } else if (element instanceof Double d && !Double.isFinite(d)) {
      g.writeString(d.toString());
    } else if (element instanceof Float f) {
      g.writeNumber(f);
    } else if (element instanceof Double d) {
      g.writeNumber(d);
    } else {
      g.writeNumber(((Number) element).longValue());
    }
  }

  private String arrayTag(Class<?> arrayType) {
    Class<?> component = arrayType.getComponentType();
    if (component.isArray()) {
      return arrayTag(component) + "[]";
    }
    if (component.isPrimitive()) {
      return component.getName() + "[]";
    }
    return requireAllowed(component) + "[]";
  }

  private void writeElements(JsonGenerator g, Collection<?> values, int depth) throws IOException {
    g.writeStartArray();
    for (Object element : values) {
      write(g, element, depth + 1);
    }
    g.writeEndArray();
  }

  private void writeFields(JsonGenerator g, Map<?, ?> map, int depth) throws IOException {
    g.writeStartObject();
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      String key = (String) entry.getKey();
      checkText(key);
      g.writeFieldName(key);
      write(g, entry.getValue(), depth + 1);
    }
    g.writeEndObject();
  }

  private void writeEntries(JsonGenerator g, Map<?, ?> map, int depth) throws IOException {
    g.writeStartArray();
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      g.writeStartArray();
      write(g, entry.getKey(), depth + 1);
      write(g, entry.getValue(), depth + 1);
      g.writeEndArray();
    }
    g.writeEndArray();
  }

  private void writeObject(JsonGenerator g, Object value, int depth) throws IOException {
    Shape shape = shapes.get(value.getClass());
    g.writeStartObject();
    for (Shape.Member member : shape.members()) {
      g.writeFieldName(member.name());
      write(g, member.get(value), depth + 1);
    }
    g.writeEndObject();
  }

  /**
   * Text holding NUL, as the parts between the NULs: written as the escape {@code \u0000} it would
   * make PostgreSQL's json operators fail on the whole document.
   */
  private static void writeTextWithNul(JsonGenerator g, String s) throws IOException {
    g.writeStartObject();
    g.writeStringField(TYPE, TEXT_WITH_NUL);
    g.writeArrayFieldStart(VALUE);
    for (String part : s.split("\0", -1)) {
      writeString(g, part);
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static void writeString(JsonGenerator g, String s) throws IOException {
    checkText(s);
    g.writeString(s);
  }

  /**
   * Refuses text that would not survive the table: an unpaired surrogate has no UTF-8 encoding at
   * all, and although the json type accepts the escape {@code \u0000}, PostgreSQL's json operators
   * ({@code ->}, {@code ->>}) fail on any document holding it (SQLState 22P05), which would break
   * every later save of the session and every expiry query over the table. String values holding
   * NUL are written in parts instead; names, map keys and characters cannot be.
   */
  static void checkText(String s) {
    int nul = s.indexOf(0);
    int unpaired = unpairedSurrogate(s);
    if (nul >= 0 && (unpaired < 0 || nul < unpaired)) {
      throw new CodecException(
          "it holds a NUL character (U+0000) at index "
              + nul
              + ", which PostgreSQL's json functions cannot read;"
              + " only String values may hold it");
    }
    if (unpaired >= 0) {
      throw new CodecException("it holds an unpaired surrogate at index " + unpaired);
    }
  }

  /**
   * The index of the first surrogate that is not half of a pair, or -1 when there is none: then
   * UTF-8 carries the text unchanged (pgjdbc would send an unpaired one as {@code ?}).
   */
  static int unpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean isPlainObject(Map<?, ?> map) {
    return hasOnlyStringKeys(map) && !map.containsKey(TYPE);
  }

  private static boolean hasOnlyStringKeys(Map<?, ?> map) {
    for (Object key : map.keySet()) {
      if (!(key instanceof String)) {
        return false;
      }
    }
    return true;
  }

  /** The tag of a JDK collection made by a factory method, or {@code null} for other classes. */
  private @Nullable String collectionTag(Object value) {
    String name = value.getClass().getName();
    if (name.startsWith("java.util.ImmutableCollections$")) {
      if (value instanceof List<?>) {
        return "List.of";
      }
      if (value instanceof Set<?>) {
        return "Set.of";
      }
      if (value instanceof Map<?, ?>) {
        return "Map.of";
      }
    }
    return switch (name) {
      case "java.util.Arrays$ArrayList" -> "Arrays.asList";
      case "java.util.Collections$EmptyList" -> "Collections.emptyList";
      case "java.util.Collections$EmptySet" -> "Collections.emptySet";
      case "java.util.Collections$EmptyMap" -> "Collections.emptyMap";
      case "java.util.Collections$SingletonList" -> "Collections.singletonList";
      case "java.util.Collections$SingletonSet" -> "Collections.singleton";
      case "java.util.Collections$SingletonMap" -> "Collections.singletonMap";
      case "java.util.Collections$UnmodifiableRandomAccessList" -> "Collections.unmodifiableList";
      case "java.util.Collections$UnmodifiableSet" -> "Collections.unmodifiableSet";
      case "java.util.Collections$UnmodifiableMap" -> "Collections.unmodifiableMap";
      default -> {
        if ((value instanceof SortedSet<?> s && s.comparator() != null)
            || (value instanceof SortedMap<?, ?> m && m.comparator() != null)) {
          throw new CodecException(
              "a sorted collection with a comparator cannot be stored; use natural ordering");
        }
        yield null;
      }
    };
  }

  private String requireAllowed(Class<?> type) {
    if (type.isAnonymousClass() || type.isLocalClass() || type.isSynthetic() || type.isHidden()) {
      throw new CodecException(
          "anonymous, local, synthetic and lambda classes cannot be stored; use a named class");
    }
    if (!allowlist.allows(type) && isJdkClass(type)) {
      // The JDK cannot be put on the allowlist, so pointing at allowedPackages would mislead.
      throw new CodecException(
          "the JDK class "
              + type.getName()
              + " is not one of the types pgsession stores; copy the value into a supported"
              + " type such as an ArrayList, LinkedHashSet, HashMap, TreeSet or an array");
    }
    if (!allowlist.allows(type)) {
      throw new CodecException(
          "class "
              + type.getName()
              + " is not allowed; add its package to the allowedPackages setting");
    }
    return type.getName();
  }

  private static boolean isJdkClass(Class<?> type) {
    String name = type.getName();
    return name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jdk.");
  }

  // ---------------------------------------------------------------- reading

  /**
   * Reads the value whose first token {@code p} has just returned, leaving the parser on its last
   * token. Plain JSON becomes values as it streams past; a tagged object is gathered into a small
   * tree first. {@code source} is the text the parser reads, which a tagged object whose tag is not
   * its first field is read again from.
   */
  @Nullable Object read(JsonParser p, String source) throws IOException {
    return read(p, new Source(source, null), 0);
  }

  /** As {@link #read(JsonParser, String)}, for a parser that reads {@code source} as UTF-8. */
  @Nullable Object read(JsonParser p, byte[] source) throws IOException {
    return read(p, new Source(null, source), 0);
  }

  /** The document a parser reads, as text or as UTF-8 bytes, so that part of it can be re-read. */
  private record Source(@Nullable String text, byte @Nullable [] bytes) {
    JsonParser parser(long start, long end) throws IOException {
      return bytes != null
          ? JSON.createParser(bytes, (int) start, (int) (end - start))
          : JSON.createParser(Objects.requireNonNull(text).substring((int) start, (int) end));
    }
  }

  /** Where a location is in the parser's input: bytes for a byte source, characters otherwise. */
  static long offset(com.fasterxml.jackson.core.JsonLocation location) {
    long bytes = location.getByteOffset();
    return bytes >= 0 ? bytes : location.getCharOffset();
  }

  private @Nullable Object read(JsonParser p, Source source, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new CodecException("the value is nested more than " + MAX_DEPTH + " levels deep");
    }
    JsonToken token = p.currentToken();
    return switch (token) {
      case VALUE_STRING -> p.getText();
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NULL -> null;
      case VALUE_NUMBER_INT -> readPlainInteger(p);
      case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          list.add(read(p, source, depth + 1));
        }
        yield list;
      }
      case START_OBJECT -> readObject(p, source, depth);
      default -> throw new CodecException("unexpected JSON " + token);
    };
  }

  private static Object readPlainInteger(JsonParser p) throws IOException {
    return switch (p.getNumberType()) {
      case INT -> p.getIntValue();
      case LONG -> p.getLongValue();
      default -> p.getBigIntegerValue();
    };
  }

  private @Nullable Object readObject(JsonParser p, Source source, int depth) throws IOException {
    long start = offset(p.currentTokenLocation());
    JsonStreamContext object = p.getParsingContext();
    Map<String, Object> map = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      if (key.equals(TYPE)) {
        if (map.isEmpty()) {
          return readTaggedFromTag(p, depth);
        }
        // A tag behind other fields (written by hand): the object is read again as a whole.
        skipRestOfObject(p);
        return readAgain(p, source, start, depth);
      }
      p.nextToken();
      try {
        map.put(key, read(p, source, depth + 1));
      } catch (CodecException e) {
        // Whether this field matters depends on the rest: a tag behind it, or the same name
        // again, makes the tree reader pass it by. The object is read as that reader reads it.
        while (p.getParsingContext() != object) {
          p.nextToken();
        }
        skipRestOfObject(p);
        return readAgain(p, source, start, depth);
      }
    }
    return map;
  }

  /** Reads the object that started at {@code start} and that {@code p} has just ended as a tree. */
  private @Nullable Object readAgain(JsonParser p, Source source, long start, int depth)
      throws IOException {
    long end = offset(p.currentLocation());
    try (JsonParser again = source.parser(start, end)) {
      again.nextToken();
      return read(readNode(again), depth);
    }
  }

  /**
   * Reads a tagged object from its leading tag field on (the writer puts the tag first). A JDK
   * scalar, {@code {"@t": "long", "v": 7}}, is read straight from the two fields; anything else is
   * gathered into a tree and read as tagged.
   */
  private Object readTaggedFromTag(JsonParser p, int depth) throws IOException {
    p.nextToken();
    JsonNode tag = readNode(p);
    JsonToken next = p.nextToken();
    Scalar scalar = tag.isTextual() ? SCALARS_BY_TAG.get(tag.textValue()) : null;
    JsonNode payload = null;
    if (scalar != null && next == JsonToken.FIELD_NAME && p.currentName().equals(VALUE)) {
      p.nextToken();
      payload = readNode(p);
      next = p.nextToken();
      if (next == JsonToken.END_OBJECT) {
        return readScalar(scalar, payload);
      }
    }
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.set(TYPE, tag);
    if (payload != null) {
      node.set(VALUE, payload);
    }
    while (next == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      node.set(name, readNode(p));
      next = p.nextToken();
    }
    return readTagged(node, depth);
  }

  /** From a field name or the end of a field's value, moves to the end of the enclosing object. */
  private static void skipRestOfObject(JsonParser p) throws IOException {
    if (p.currentToken() == JsonToken.FIELD_NAME) {
      p.nextToken();
      p.skipChildren();
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      p.nextToken();
      p.skipChildren();
    }
  }

  /**
   * The tree of the value whose first token {@code p} has just returned, built as Jackson's tree
   * reader builds it (ints, longs and big integers apart, other numbers as doubles, the last of
   * repeated names winning) without its per-call set-up.
   */
  static JsonNode readNode(JsonParser p) throws IOException {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    JsonToken token = p.currentToken();
    return switch (token) {
      case START_OBJECT -> {
        ObjectNode object = nodes.objectNode();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          object.set(name, readNode(p));
        }
        yield object;
      }
      case START_ARRAY -> {
        ArrayNode array = nodes.arrayNode();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          array.add(readNode(p));
        }
        yield array;
      }
      case VALUE_STRING -> nodes.textNode(p.getText());
      case VALUE_TRUE -> nodes.booleanNode(true);
      case VALUE_FALSE -> nodes.booleanNode(false);
      case VALUE_NULL -> nodes.nullNode();
      case VALUE_NUMBER_INT ->
          switch (p.getNumberType()) {
            case INT -> nodes.numberNode(p.getIntValue());
            case LONG -> nodes.numberNode(p.getLongValue());
            default -> nodes.numberNode(p.getBigIntegerValue());
          };
      case VALUE_NUMBER_FLOAT -> nodes.numberNode(p.getDoubleValue());
      default -> throw new CodecException("unexpected JSON " + token);
    };
  }

  /**
   * Reads a value from its Jackson tree. The streaming reader above gives the same result for every
   * document (tests compare the two); tagged values other than JDK scalars are read through here.
   */
  @Nullable Object read(JsonNode node) {
    return read(node, 0);
  }

  private @Nullable Object read(JsonNode node, int depth) {
    if (depth > MAX_DEPTH) {
      throw new CodecException("the value is nested more than " + MAX_DEPTH + " levels deep");
    }
    return switch (node.getNodeType()) {
      case NULL, MISSING -> null;
      case STRING -> node.textValue();
      case BOOLEAN -> node.booleanValue();
      case NUMBER -> readPlainNumber(node);
      case ARRAY -> readList(node, new ArrayList<>(node.size()), depth);
      case OBJECT -> node.has(TYPE) ? readTagged(node, depth) : readMap(node, depth);
      default -> throw new CodecException("unexpected JSON " + node.getNodeType());
    };
  }

  private static Object readPlainNumber(JsonNode node) {
    if (node.isInt()) {
      return node.intValue();
    }
    if (node.isLong()) {
      return node.longValue();
    }
    if (node.isBigInteger()) {
      return node.bigIntegerValue();
    }
    return node.doubleValue();
  }

  private List<Object> readList(JsonNode node, List<Object> into, int depth) {
    for (JsonNode element : node) {
      into.add(read(element, depth + 1));
    }
    return into;
  }

  private Map<String, Object> readMap(JsonNode node, int depth) {
    Map<String, Object> map = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      map.put(field.getKey(), read(field.getValue(), depth + 1));
    }
    return map;
  }

  private Object readTagged(JsonNode node, int depth) {
    JsonNode tagNode = node.get(TYPE);
    if (!tagNode.isTextual()) {
      throw new CodecException("the type tag is not text: " + tagNode);
    }
    String tag = tagNode.textValue();
    JsonNode payload = node.path(VALUE);
    if (tag.equals(TEXT_WITH_NUL)) {
      return readTextWithNul(payload);
    }
    Scalar scalar = SCALARS_BY_TAG.get(tag);
    if (scalar != null) {
      return readScalar(scalar, payload);
    }
    if (tag.endsWith("[]")) {
      return readArray(tag, payload, depth);
    }
    Object made = readFactoryCollection(tag, node, depth);
    if (made != null) {
      return made;
    }
    Class<?> type = loadAllowed(tag);
    if (type.isEnum()) {
      return readEnum(type, payload);
    }
    try {
      if (Map.class.isAssignableFrom(type)) {
        return readMapInto(newInstance(type), node, depth);
      }
      if (Collection.class.isAssignableFrom(type)) {
        return readCollectionInto(newInstance(type), payload, depth);
      }
    } catch (ClassCastException e) {
      // A sorted collection refuses elements that are not mutually comparable.
      throw new CodecException("a " + tag + " holds elements it cannot compare: " + e, e);
    }
    return readObject(type, payload, depth);
  }

  private static String readTextWithNul(JsonNode payload) {
    requireArray(payload, "a text holding NUL");
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < payload.size(); i++) {
      if (!payload.get(i).isTextual()) {
        throw new CodecException("a part of a text holding NUL is " + payload.get(i));
      }
      text.append(i == 0 ? "" : "\0").append(payload.get(i).textValue());
    }
    return text.toString();
  }

  private static Object readScalar(Scalar scalar, JsonNode payload) {
    if (scalar.numeric() ? !(payload.isNumber() || payload.isTextual()) : !payload.isTextual()) {
      throw new CodecException("the payload of a " + scalar.tag() + " is " + payload);
    }
    try {
      return scalar.reader().apply(payload);
    } catch (CodecException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CodecException(
          "'" + payload.asText() + "' is not a valid " + scalar.tag() + ": " + e.getMessage(), e);
    }
  }

  private Object readArray(String tag, JsonNode payload, int depth) {
    Class<?> component = resolveComponent(tag.substring(0, tag.length() - 2));
    requireArray(payload, tag);
    Object array = Array.newInstance(component, payload.size());
    for (int i = 0; i < payload.size(); i++) {
      JsonNode element = payload.get(i);
      Object value =
          component.isPrimitive() ? readPrimitive(component, element) : read(element, depth + 1);
      if (value != null && !component.isPrimitive() && !component.isInstance(value)) {
        throw new CodecException("an element of " + tag + " is a " + value.getClass().getName());
      }
      Array.set(array, i, value);
    }
    return array;
  }

  private Class<?> resolveComponent(String name) {
    if (name.endsWith("[]")) {
      return resolveComponent(name.substring(0, name.length() - 2)).arrayType();
    }
    return switch (name) {
      case "int" -> int.class;
      case "long" -> long.class;
      case "short" -> short.class;
      case "byte" -> byte.class;
      case "char" -> char.class;
      case "boolean" -> boolean.class;
      case "float" -> float.class;
      case "double" -> double.class;
      default -> loadAllowed(name);
    };
  }

  private static Object readPrimitive(Class<?> type, JsonNode element) {
    if (type == boolean.class) {
      if (!element.isBoolean()) {
        throw new CodecException("a boolean[] element is " + element);
      }
      return element.booleanValue();
    }
    if (type == double.class) {
      return readDouble(element);
    }
    if (type == float.class) {
      return readFloat(element);
    }
    if (type == char.class) {
      return (char) readInt(element, Character.MIN_VALUE, Character.MAX_VALUE);
    }
    long value = readLong(element);
    if (type == long.class) {
      return value;
    }
    if (type == int.class) {
      return (int) readInt(element, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }
    if (type == short.class) {
      return (short) readInt(element, Short.MIN_VALUE, Short.MAX_VALUE);
    }
    return (byte) readInt(element, Byte.MIN_VALUE, Byte.MAX_VALUE);
  }

  private @Nullable Object readFactoryCollection(String tag, JsonNode node, int depth) {
    JsonNode payload = node.path(VALUE);
    return switch (tag) {
      case "List.of" -> List.of(nonNull(readList(payload, depth), tag).toArray());
      case "Set.of" -> Set.of(nonNull(readList(payload, depth), tag).toArray());
      case "Map.of" -> Map.copyOf(readMapInto(new LinkedHashMap<>(), node, depth));
      case "Arrays.asList" -> Arrays.asList(readList(payload, depth).toArray());
      case "Collections.emptyList" -> Collections.emptyList();
      case "Collections.emptySet" -> Collections.emptySet();
      case "Collections.emptyMap" -> Collections.emptyMap();
      case "Collections.singletonList" -> Collections.singletonList(single(payload, tag, depth));
      case "Collections.singleton" -> Collections.singleton(single(payload, tag, depth));
      case "Collections.singletonMap" -> {
        Map<Object, Object> map = readMapInto(new LinkedHashMap<>(), node, depth);
        if (map.size() != 1) {
          throw new CodecException("a singletonMap holds " + map.size() + " entries");
        }
        Map.Entry<Object, Object> entry = map.entrySet().iterator().next();
        yield Collections.singletonMap(entry.getKey(), entry.getValue());
      }
      case "Collections.unmodifiableList" -> Collections.unmodifiableList(readList(payload, depth));
      case "Collections.unmodifiableSet" ->
          Collections.unmodifiableSet(new LinkedHashSet<>(readList(payload, depth)));
      case "Collections.unmodifiableMap" ->
          Collections.unmodifiableMap(readMapInto(new LinkedHashMap<>(), node, depth));
      default -> null;
    };
  }

  private List<Object> readList(JsonNode payload, int depth) {
    requireArray(payload, "a list");
    return readList(payload, new ArrayList<>(payload.size()), depth);
  }

  private @Nullable Object single(JsonNode payload, String tag, int depth) {
    List<Object> values = readList(payload, depth);
    if (values.size() != 1) {
      throw new CodecException("a " + tag + " holds " + values.size() + " elements");
    }
    return values.get(0);
  }

  private static List<Object> nonNull(List<Object> values, String tag) {
    if (values.contains(null)) {
      throw new CodecException("a " + tag + " may not hold null");
    }
    return values;
  }

  @SuppressWarnings("unchecked")
  private <M extends Map<Object, Object>> M readMapInto(Object target, JsonNode node, int depth) {
    M map = (M) target;
    JsonNode fields = node.get(VALUE);
    JsonNode entries = node.get(ENTRIES);
    if (fields != null && fields.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = fields.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> field = it.next();
        map.put(field.getKey(), read(field.getValue(), depth + 1));
      }
    } else if (entries != null && entries.isArray()) {
      for (JsonNode entry : entries) {
        if (!entry.isArray() || entry.size() != 2) {
          throw new CodecException("a map entry is not a [key, value] pair: " + entry);
        }
        map.put(read(entry.get(0), depth + 1), read(entry.get(1), depth + 1));
      }
    } else {
      throw new CodecException("a map has neither \"v\" fields nor \"e\" entries");
    }
    return map;
  }

  @SuppressWarnings("unchecked")
  private Collection<Object> readCollectionInto(Object target, JsonNode payload, int depth) {
    requireArray(payload, target.getClass().getName());
    Collection<Object> collection = (Collection<Object>) target;
    for (JsonNode element : payload) {
      collection.add(read(element, depth + 1));
    }
    return collection;
  }

  private static Object readEnum(Class<?> type, JsonNode payload) {
    if (!payload.isTextual()) {
      throw new CodecException("the constant of enum " + type.getName() + " is " + payload);
    }
    for (Object constant : type.getEnumConstants()) {
      if (((Enum<?>) constant).name().equals(payload.textValue())) {
        return constant;
      }
    }
    throw new CodecException(
        "enum " + type.getName() + " has no constant " + payload.textValue() + " any more");
  }

  private Object readObject(Class<?> type, JsonNode payload, int depth) {
    if (!payload.isObject()) {
      throw new CodecException("the fields of " + type.getName() + " are " + payload);
    }
    Shape shape = shapes.get(type);
    Object[] values = new Object[shape.members().size()];
    for (int i = 0; i < values.length; i++) {
      Shape.Member member = shape.members().get(i);
      JsonNode field = payload.get(member.name());
      values[i] = field == null ? member.absentValue() : member.check(read(field, depth + 1));
    }
    return shape.create(values);
  }

  private Class<?> loadAllowed(String name) {
    if (!allowlist.allows(name)) {
      throw new CodecException(
          "the stored type "
              + name
              + " is not allowed; add its package to the allowedPackages setting"
              + " if it is yours");
    }
    try {
      return Class.forName(name, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      throw new CodecException("the stored type " + name + " is not on the class path", e);
    }
  }

  private static Object newInstance(Class<?> type) {
    try {
      Constructor<?> constructor = type.getDeclaredConstructor();
      constructor.setAccessible(true);
      return constructor.newInstance();
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new CodecException("cannot create a " + type.getName() + ": " + e, e);
    }
  }

  private static void requireArray(JsonNode payload, String what) {
    if (payload.getNodeType() != JsonNodeType.ARRAY) {
      throw new CodecException("the elements of " + what + " are not a JSON array: " + payload);
    }
  }

  // ---------------------------------------------------------------- scalar helpers

  private static void numeric(String tag, Class<?> type, Function<JsonNode, Object> reader) {
    register(new Scalar(tag, type, true, reader));
  }

  private static void text(String tag, Class<?> type, Function<String, Object> reader) {
    register(new Scalar(tag, type, false, n -> reader.apply(n.textValue())));
  }

  private static void register(Scalar scalar) {
    SCALARS_BY_CLASS.put(scalar.type(), scalar);
    SCALARS_BY_TAG.put(scalar.tag(), scalar);
  }

  /**
   * A locale's BCP 47 language tag, which is how it is stored. A few locales do not survive their
   * tag ({@code no_NO_NY} comes back as {@code nn_NO}, an ill-formed language as another one); they
   * are refused rather than stored as a different value.
   */
  private static String languageTag(Locale locale) {
    String tag = locale.toLanguageTag();
    Locale back = Locale.forLanguageTag(tag);
    if (!back.equals(locale)) {
      throw new CodecException(
          "the locale "
              + locale
              + " does not survive its language tag "
              + tag
              + " (it would be read back as "
              + back
              + "); store Locale.forLanguageTag(\""
              + tag
              + "\") or the tag itself");
    }
    return tag;
  }

  /**
   * {@link YearMonth#parse}, also for years after 9999 as {@link YearMonth#toString} writes them,
   * without the {@code +} that the ISO format asks for.
   */
  private static YearMonth readYearMonth(String text) {
    int dash = text.indexOf('-', 1);
    if (dash > 4 && Character.isDigit(text.charAt(0))) {
      return YearMonth.parse("+" + text);
    }
    return YearMonth.parse(text);
  }

  private static long readLong(JsonNode n) {
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw new CodecException(n + " is not a long");
    }
    return n.longValue();
  }

  private static long readInt(JsonNode n, long min, long max) {
    long value = readLong(n);
    if (value < min || value > max) {
      throw new CodecException(n + " is out of range");
    }
    return value;
  }

  private static double readDouble(JsonNode n) {
    return n.isTextual() ? Double.parseDouble(n.textValue()) : n.doubleValue();
  }

  private static float readFloat(JsonNode n) {
    return n.isTextual() ? Float.parseFloat(n.textValue()) : Float.parseFloat(n.asText());
  }

  private static char readChar(String s) {
    if (s.length() != 1) {
      throw new CodecException("'" + s + "' is not one character");
    }
    return s.charAt(0);
  }

  /** How the fields of a record or of a class with a no-argument constructor are set and got. */
  private record Shape(List<Member> members, Function<Object[], Object> factory) {
    Object create(Object[] values) {
      return factory.apply(values);
    }

    static Shape of(Class<?> type) {
      if (type.isInterface() || Modifier.isAbstract(type.getModifiers())) {
        throw new CodecException(type.getName() + " is abstract");
      }
      return type.isRecord() ? ofRecord(type) : ofFields(type);
    }

    private static Shape ofRecord(Class<?> type) {
      RecordComponent[] components = type.getRecordComponents();
      List<Member> members = new ArrayList<>();
      Class<?>[] types = new Class<?>[components.length];
      for (int i = 0; i < components.length; i++) {
        RecordComponent c = components[i];
        types[i] = c.getType();
        var accessor = c.getAccessor();
        accessor.setAccessible(true);
        members.add(new Member(c.getName(), c.getType(), accessor::invoke, null));
      }
      Constructor<?> constructor;
      try {
        constructor = type.getDeclaredConstructor(types);
        constructor.setAccessible(true);
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new CodecException("record " + type.getName() + " has no canonical constructor", e);
      }
      return new Shape(List.copyOf(members), values -> construct(constructor, values));
    }

    private static Shape ofFields(Class<?> type) {
      Constructor<?> constructor;
      try {
        constructor = type.getDeclaredConstructor();
        constructor.setAccessible(true);
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new CodecException(
            type.getName() + " needs a no-argument constructor (or must be a record) to be stored",
            e);
      }
      List<Member> members = new ArrayList<>();
      Set<String> names = new LinkedHashSet<>();
      for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
        for (Field field : c.getDeclaredFields()) {
          int mods = field.getModifiers();
          if (Modifier.isStatic(mods) || Modifier.isTransient(mods) || field.isSynthetic()) {
            continue;
          }
          if (!names.add(field.getName())) {
            throw new CodecException(
                type.getName() + " has two fields named " + field.getName() + " in its hierarchy");
          }
          field.setAccessible(true);
          members.add(new Member(field.getName(), field.getType(), field::get, field));
        }
      }
      return new Shape(
          List.copyOf(members),
          values -> {
            Object instance = construct(constructor, new Object[0]);
            for (int i = 0; i < values.length; i++) {
              members.get(i).set(instance, values[i]);
            }
            return instance;
          });
    }

    private static Object construct(Constructor<?> constructor, Object[] values) {
      try {
        return constructor.newInstance(values);
      } catch (InvocationTargetException e) {
        throw new CodecException(
            constructor.getDeclaringClass().getName()
                + " rejected the stored values: "
                + e.getCause(),
            e.getCause());
      } catch (ReflectiveOperationException | IllegalArgumentException e) {
        throw new CodecException(
            "cannot create a " + constructor.getDeclaringClass().getName() + ": " + e, e);
      }
    }

    /** One stored field: its name, declared type and how to read and write it. */
    record Member(String name, Class<?> type, Getter getter, @Nullable Field field) {
      @Nullable Object get(Object instance) {
        try {
          return getter.get(instance);
        } catch (ReflectiveOperationException e) {
          throw new CodecException("cannot read " + name + ": " + e, e);
        }
      }

      void set(Object instance, @Nullable Object value) {
        try {
          if (field != null) {
            field.set(instance, value);
          }
        } catch (IllegalAccessException e) {
          throw new CodecException("cannot set " + name + ": " + e, e);
        }
      }

      @Nullable Object absentValue() {
        if (type.isPrimitive()) {
          throw new CodecException("the stored value has no " + name);
        }
        return null;
      }

      @Nullable Object check(@Nullable Object value) {
        if (value == null) {
          return absentValue();
        }
        Class<?> boxed =
            type.isPrimitive() ? Array.get(Array.newInstance(type, 1), 0).getClass() : type;
        if (!boxed.isInstance(value)) {
          throw new CodecException(
              "the stored "
                  + name
                  + " is a "
                  + value.getClass().getName()
                  + ", not a "
                  + type.getName());
        }
        return value;
      }
    }

    @FunctionalInterface
    interface Getter {
      @Nullable Object get(Object instance) throws ReflectiveOperationException;
    }
  }
}
