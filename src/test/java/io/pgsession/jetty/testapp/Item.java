package io.pgsession.jetty.testapp;

/** A record the test web application stores in its sessions. */
public record Item(String name, int quantity) {}
