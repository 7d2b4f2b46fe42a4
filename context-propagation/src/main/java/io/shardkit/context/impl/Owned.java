package io.shardkit.context.impl;

/** Something an open scope releases when it closes: a pin, a nested scope, a bounded future. */
interface Owned {

  /**
   * Releases this because its owning scope closed. Idempotent with the owner's own release.
   *
   * @param cause the scope's timeout error, or why it closed early
   */
  void closeWith(Throwable cause);

  /** A short name of what this is, for the registry's report ({@code "connection"}, ...). */
  String kind();
}
