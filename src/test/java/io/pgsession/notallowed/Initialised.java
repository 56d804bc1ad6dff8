package io.pgsession.notallowed;

import java.util.concurrent.atomic.AtomicBoolean;

/** Records whether {@link Tripwire}'s static initialiser ran; reading it does not run it. */
public final class Initialised {
  public static final AtomicBoolean TRIPWIRE = new AtomicBoolean();

  private Initialised() {}
}
