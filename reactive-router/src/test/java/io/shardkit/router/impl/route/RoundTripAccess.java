package io.shardkit.router.impl.route;

/** Test access to the package-private round-trip checks. */
public final class RoundTripAccess {

  private RoundTripAccess() {}

  public static int parameters(String sql) {
    return RoundTrip.parameters(sql);
  }

  public static boolean sameQuotes(String original, String deparsed) {
    return RoundTrip.sameQuotes(original, deparsed);
  }
}
