package io.shardkit.tx;

import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns a TCC action's argument into JSON and back. The coordinator logs the JSON durably before
 * the try runs, and recovery (possibly in another process, after a restart) decodes it to run
 * confirm or cancel, so {@code decode(encode(a))} must give an equivalent argument and the format
 * must stay readable across releases of the application.
 *
 * @param <A> the argument type
 */
public interface TccCodec<A> {

  /** The argument as JSON; must not be null. */
  JsonObject encode(A argument);

  /** The argument read back from {@link #encode}'s output. */
  A decode(JsonObject json);

  /** A codec from two functions, e.g. a record's {@code toJson} and {@code fromJson}. */
  static <A> TccCodec<A> of(Function<A, JsonObject> encoder, Function<JsonObject, A> decoder) {
    Objects.requireNonNull(encoder, "encoder");
    Objects.requireNonNull(decoder, "decoder");
    return new TccCodec<>() {
      @Override
      public JsonObject encode(A argument) {
        return encoder.apply(argument);
      }

      @Override
      public A decode(JsonObject json) {
        return decoder.apply(json);
      }
    };
  }

  /** The identity codec for arguments that already are JSON objects (copied both ways). */
  static TccCodec<JsonObject> json() {
    return of(JsonObject::copy, JsonObject::copy);
  }
}
