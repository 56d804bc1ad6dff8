package io.pgsession.demo;

import java.time.LocalDateTime;

/** Who logged in, stored in the session as a record; its package is on the type allowlist. */
public record DemoUser(String name, LocalDateTime since) {}
