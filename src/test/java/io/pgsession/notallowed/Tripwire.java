package io.pgsession.notallowed;

/**
 * Stands for a deserialization gadget: loading and initialising it has a side effect. Tests must
 * never name this class in code that would initialise it; they name it only in stored rows.
 */
public final class Tripwire {
  static {
    Initialised.TRIPWIRE.set(true);
  }

  public Tripwire() {}
}
