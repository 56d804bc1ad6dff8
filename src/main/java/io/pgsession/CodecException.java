package io.pgsession;

/** A value that cannot be written as, or read from, the session document. Internal. */
final class CodecException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CodecException(String message) {
    super(message);
  }

  CodecException(String message, Throwable cause) {
    super(message, cause);
  }
}
