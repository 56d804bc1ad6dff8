package io.pgsession.tomcat;

import jakarta.servlet.http.Cookie;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.catalina.Session;
import org.apache.catalina.authenticator.Constants;
import org.apache.catalina.authenticator.SavedRequest;
import org.apache.catalina.realm.GenericPrincipal;
import org.apache.tomcat.util.buf.ByteChunk;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries what Tomcat's authenticators keep on a session outside its attributes (the cached
 * principal, and FORM login's saved request and notes) through the stored document, as plain JSON
 * under two reserved attribute names:
 *
 * <pre>{@code
 * "pgsession.tomcat.auth": {"type": "FORM", "name": "ann", "roles": ["user"]}
 * "pgsession.tomcat.form": {"sessionId": "...", "request": {"method": "GET", "uri": "/app/x", ...}}
 * }</pre>
 *
 * <p>Only a {@link GenericPrincipal}'s name and roles are kept, restored as a plain {@code
 * GenericPrincipal}; other principal classes are not carried and their users sign in again on
 * another node. A password is never written: with the authenticator's {@code cache="false"} a FORM
 * login does not survive a change of node.
 */
final class TomcatAuthState {
  static final String AUTH = "pgsession.tomcat.auth";
  static final String FORM = "pgsession.tomcat.form";

  private static final Logger log = LoggerFactory.getLogger(TomcatAuthState.class);
  private static volatile boolean reportedForeignPrincipal;

  private TomcatAuthState() {}

  static boolean isReserved(String attribute) {
    return attribute.equals(AUTH) || attribute.equals(FORM);
  }

  /** Adds the session's authentication state to {@code attributes}, as plain JSON values. */
  static void capture(Session session, Map<String, Object> attributes) {
    Map<String, Object> auth = principal(session);
    if (auth != null) {
      attributes.put(AUTH, auth);
    }
    Map<String, Object> form = form(session);
    if (form != null) {
      attributes.put(FORM, form);
    }
  }

  /** Gives a session read from the table the authentication state stored with it. */
  static void restore(Session session, Map<String, Object> attributes) {
    if (attributes.get(AUTH) instanceof Map<?, ?> auth && auth.get("name") instanceof String name) {
      session.setPrincipal(new GenericPrincipal(name, strings(auth.get("roles"))));
      session.setAuthType(auth.get("type") instanceof String type ? type : null);
    }
    if (attributes.get(FORM) instanceof Map<?, ?> form) {
      if (form.get("sessionId") instanceof String id) {
        session.setNote(Constants.SESSION_ID_NOTE, id);
      }
      if (form.get("username") instanceof String username) {
        session.setNote(Constants.SESS_USERNAME_NOTE, username);
      }
      if (form.get("request") instanceof Map<?, ?> saved) {
        session.setNote(Constants.FORM_REQUEST_NOTE, savedRequest(saved));
      }
    }
  }

  private static @Nullable Map<String, Object> principal(Session session) {
    Principal principal = session.getPrincipal();
    if (principal == null) {
      return null;
    }
    if (!(principal instanceof GenericPrincipal generic)) {
      if (!reportedForeignPrincipal) {
        reportedForeignPrincipal = true;
        log.warn(
            "pgsession cannot store a principal of class {} (only Tomcat's GenericPrincipal);"
                + " its users will sign in again when a request reaches another node",
            principal.getClass().getName());
      }
      return null;
    }
    Map<String, Object> auth = new LinkedHashMap<>();
    if (session.getAuthType() != null) {
      auth.put("type", session.getAuthType());
    }
    auth.put("name", generic.getName());
    auth.put("roles", new ArrayList<>(Arrays.asList(generic.getRoles())));
    return auth;
  }

  private static @Nullable Map<String, Object> form(Session session) {
    Map<String, Object> form = new LinkedHashMap<>();
    if (session.getNote(Constants.SESSION_ID_NOTE) instanceof String id) {
      form.put("sessionId", id);
    }
    if (session.getNote(Constants.SESS_USERNAME_NOTE) instanceof String username) {
      form.put("username", username);
    }
    if (session.getNote(Constants.FORM_REQUEST_NOTE) instanceof SavedRequest saved) {
      form.put("request", savedRequest(saved));
    }
    return form.isEmpty() ? null : form;
  }

  private static Map<String, Object> savedRequest(SavedRequest saved) {
    Map<String, Object> out = new LinkedHashMap<>();
    putIfSet(out, "method", saved.getMethod());
    putIfSet(out, "uri", saved.getRequestURI());
    putIfSet(out, "decodedUri", saved.getDecodedRequestURI());
    putIfSet(out, "query", saved.getQueryString());
    putIfSet(out, "contentType", saved.getContentType());
    putIfSet(out, "originalMaxInactiveInterval", saved.getOriginalMaxInactiveIntervalOptional());
    ByteChunk body = saved.getBody();
    if (body != null && body.getLength() > 0) {
      out.put("body", Arrays.copyOfRange(body.getBuffer(), body.getStart(), body.getEnd()));
    }
    Map<String, Object> headers = new LinkedHashMap<>();
    for (Iterator<String> names = saved.getHeaderNames(); names.hasNext(); ) {
      String name = names.next();
      List<String> values = new ArrayList<>();
      saved.getHeaderValues(name).forEachRemaining(values::add);
      headers.put(name, values);
    }
    out.put("headers", headers);
    List<Object> cookies = new ArrayList<>();
    for (Iterator<Cookie> it = saved.getCookies(); it.hasNext(); ) {
      Cookie cookie = it.next();
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("name", cookie.getName());
      c.put("value", cookie.getValue() == null ? "" : cookie.getValue());
      cookies.add(c);
    }
    out.put("cookies", cookies);
    List<Object> locales = new ArrayList<>();
    saved.getLocales().forEachRemaining(l -> locales.add(l.toLanguageTag()));
    out.put("locales", locales);
    return out;
  }

  private static SavedRequest savedRequest(Map<?, ?> in) {
    SavedRequest saved = new SavedRequest();
    saved.setMethod(text(in.get("method")));
    saved.setRequestURI(text(in.get("uri")));
    saved.setDecodedRequestURI(text(in.get("decodedUri")));
    saved.setQueryString(text(in.get("query")));
    saved.setContentType(text(in.get("contentType")));
    if (in.get("originalMaxInactiveInterval") instanceof Number n) {
      saved.setOriginalMaxInactiveInterval(n.intValue());
    }
    if (in.get("body") instanceof byte[] bytes) {
      ByteChunk body = new ByteChunk();
      body.setBytes(bytes, 0, bytes.length);
      saved.setBody(body);
    }
    if (in.get("headers") instanceof Map<?, ?> headers) {
      headers.forEach(
          (name, values) -> strings(values).forEach(v -> saved.addHeader(String.valueOf(name), v)));
    }
    if (in.get("cookies") instanceof List<?> cookies) {
      for (Object c : cookies) {
        if (c instanceof Map<?, ?> m && m.get("name") instanceof String name) {
          saved.addCookie(new Cookie(name, String.valueOf(m.get("value"))));
        }
      }
    }
    strings(in.get("locales")).forEach(tag -> saved.addLocale(Locale.forLanguageTag(tag)));
    return saved;
  }

  private static void putIfSet(Map<String, Object> out, String key, @Nullable Object value) {
    if (value != null) {
      out.put(key, value);
    }
  }

  private static @Nullable String text(@Nullable Object value) {
    return value instanceof String s ? s : null;
  }

  private static List<String> strings(@Nullable Object value) {
    if (!(value instanceof List<?> list)) {
      return Collections.emptyList();
    }
    List<String> out = new ArrayList<>(list.size());
    for (Object o : list) {
      if (o instanceof String s) {
        out.add(s);
      }
    }
    return out;
  }
}
