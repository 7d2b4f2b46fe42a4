package io.shardkit.tx.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One phase of a Redis step as one Lua script: the fence check, the step's body and the fence write
 * run atomically on the server (a script runs alone), so a phase's effect and its fence entry exist
 * together or not at all.
 *
 * <p>The fence of a branch is a hash at {@code KEYS[1]} with the fields {@code try} ({@code "try"}
 * when the try ran, {@code "cancel"} when a cancel came first), {@code confirm} and {@code cancel};
 * the rules are the MySQL fence's (see {@code TccParticipants}). {@code ARGV[1]} is the fence's
 * time to live in milliseconds. The body sees its own keys and arguments as {@code KEYS} and {@code
 * ARGV} (the fence's removed); it returns nothing to succeed or {@code redis.error_reply(reason)}
 * to refuse (it must not have written anything then). The fence is written after the body, so a
 * body that fails at run time leaves no fence entry (the phase counts as not run and is retried).
 */
final class FenceScript {

  static final String TRY = "try";
  static final String CONFIRM = "confirm";
  static final String CANCEL = "cancel";

  /** The prefix of a business refusal in the error reply. */
  static final String REFUSED_PREFIX = "SHARDKIT_REFUSED";

  final String phase;
  final String text;
  final String sha;

  FenceScript(String phase, String body) {
    this.phase = phase;
    this.text = wrap(phase, body);
    this.sha = sha1(text);
  }

  private static String wrap(String phase, String body) {
    StringBuilder lua = new StringBuilder();
    lua.append("local fence = KEYS[1]\n")
        .append("local ttl = tonumber(ARGV[1])\n")
        .append("local keys = {}\n")
        .append("for i = 2, #KEYS do keys[i - 1] = KEYS[i] end\n")
        .append("local argv = {}\n")
        .append("for i = 2, #ARGV do argv[i - 1] = ARGV[i] end\n")
        .append("local function body(KEYS, ARGV)\n")
        .append(body)
        .append("\nend\n")
        .append("local function apply()\n")
        .append("  local r = body(keys, argv)\n")
        .append("  if type(r) == 'table' and r.err then\n")
        .append("    return redis.error_reply('" + REFUSED_PREFIX + " ' .. tostring(r.err))\n")
        .append("  end\n")
        .append("  return nil\n")
        .append("end\n")
        .append("local tried = redis.call('HGET', fence, 'try')\n");
    switch (phase) {
      case TRY ->
          lua.append("if tried == 'cancel' then return {'REFUSED'} end\n")
              .append("if tried then return {'DUPLICATE'} end\n")
              .append("local refused = apply()\n")
              .append("if refused then return refused end\n")
              .append("redis.call('HSET', fence, 'try', 'try')\n");
      case CONFIRM ->
          lua.append(
                  "if redis.call('HEXISTS', fence, 'confirm') == 1 then return {'DUPLICATE'} end\n")
              .append("if tried ~= 'try' then return {'NO_TRY', tried or ''} end\n")
              .append("local refused = apply()\n")
              .append("if refused then return refused end\n")
              .append("redis.call('HSET', fence, 'confirm', '1')\n");
      case CANCEL ->
          lua.append(
                  "if redis.call('HEXISTS', fence, 'cancel') == 1 then return {'DUPLICATE'} end\n")
              .append("if not tried then\n")
              .append("  redis.call('HSET', fence, 'try', 'cancel', 'cancel', '1')\n")
              .append("  redis.call('PEXPIRE', fence, ttl)\n")
              .append("  return {'EMPTY_ROLLBACK'}\n")
              .append("end\n")
              .append("local refused = apply()\n")
              .append("if refused then return refused end\n")
              .append("redis.call('HSET', fence, 'cancel', '1')\n");
      default -> throw new IllegalArgumentException(phase);
    }
    lua.append("redis.call('PEXPIRE', fence, ttl)\n").append("return {'APPLIED'}\n");
    return lua.toString();
  }

  static String sha1(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
