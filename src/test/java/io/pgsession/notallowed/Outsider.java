package io.pgsession.notallowed;

/** A harmless class in a package no test puts on the allowlist. */
public record Outsider(String text) {}
