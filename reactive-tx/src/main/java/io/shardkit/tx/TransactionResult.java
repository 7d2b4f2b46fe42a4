package io.shardkit.tx;

import java.util.Objects;

/**
 * What a committed transaction answers when its caller asks for more than the value ({@link
 * Transactions#xaResult}, {@link Transactions#tccResult}, {@link Transactions#sagaResult}): the
 * work's value, the transaction's global id, and whether a second phase was still pending when the
 * caller was answered.
 *
 * <p>A transaction is committed once its COMMIT decision is durable (the outcome table of the
 * module README). {@link #secondPhasePending()} says that, at that moment, some of it was not
 * applied yet: an XA branch whose {@code XA COMMIT} failed or had not answered by the deadline, TCC
 * confirms still running or left to recovery, a saga's retry-only steps still running or left to
 * recovery. Recovery applies them (in any instance); until then a read on the shards concerned may
 * not see the writes. Do not retry: it is committed. {@link Transactions#decision(String)} with the
 * global id tells the durable decision at any time.
 *
 * @param value the work's value (may be null)
 * @param globalId the transaction's global id (the XA gtrid, the TCC or saga log row's key)
 * @param secondPhasePending committed, with part of it still to be applied (by this coordinator in
 *     the background, or by recovery)
 */
public record TransactionResult<T>(T value, String globalId, boolean secondPhasePending) {

  public TransactionResult {
    Objects.requireNonNull(globalId, "globalId");
  }
}
