package io.shardkit.tx;

import io.shardkit.context.ConfigurationException;
import io.shardkit.context.TxContext;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * One branch of a TCC global transaction as a participant sees it: which global transaction, which
 * branch, which action, with which argument (as logged).
 *
 * @param globalId the global transaction id
 * @param branchId the branch id, unique within the global transaction
 * @param action the registered name of the action
 * @param args the argument, encoded by the action's {@link TccCodec}
 */
public record TccBranch(String globalId, String branchId, String action, JsonObject args) {

  /**
   * @throws ConfigurationException if an id or the action name is not valid
   */
  public TccBranch {
    if (!TxContext.isValidId(globalId)) {
      throw new ConfigurationException("globalId", "not a valid global id: '" + globalId + "'");
    }
    if (!TxContext.isValidId(branchId)) {
      throw new ConfigurationException("branchId", "not a valid branch id: '" + branchId + "'");
    }
    TccAction.checkName(action);
    Objects.requireNonNull(args, "args");
  }

  /** {@code <globalId>/<branchId> (<action>)}, for messages. */
  public String describe() {
    return globalId + "/" + branchId + " (" + action + ")";
  }
}
