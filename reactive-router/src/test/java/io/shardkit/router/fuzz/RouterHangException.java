package io.shardkit.router.fuzz;

/** The router's call did not return (or its Future did not complete) within the fuzzer's bound. */
final class RouterHangException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  RouterHangException(String message) {
    super(message);
  }
}
