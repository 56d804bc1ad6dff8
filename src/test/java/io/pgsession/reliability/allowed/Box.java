package io.pgsession.reliability.allowed;

import java.util.List;
import java.util.Map;

/** A value class of an allowed package whose components may hold anything. */
public record Box(Object content, List<Object> list, Map<String, Object> map) {}
