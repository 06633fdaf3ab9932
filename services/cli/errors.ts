/**
 * Typed errors of the `cairn` CLI. Each has a stable `code` (for `--json` output and scripts) and a
 * message a user can act on; main.ts maps the classes to exit codes.
 */
import { CairnError } from '../../shared/core/errors.ts';

export type WalletErrorCode =
  /** AES-GCM authentication failed: the passphrase is not the one the file was written with. */
  | 'wallet-wrong-passphrase'
  /** The file exists but is not a wallet we can read (truncated, garbage, unknown version). */
  | 'wallet-damaged'
  /** `create`/`restore` would overwrite an existing file. */
  | 'wallet-exists'
  | 'wallet-missing'
  /** The file on disk changed since it was read: refusing to write over it. */
  | 'wallet-changed'
  /** The wallet belongs to another network than the one asked for. */
  | 'wallet-network'
  | 'wallet-bad-mnemonic';

export class WalletError extends CairnError {
  constructor(
    readonly code: WalletErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

export type RpcClientErrorCode =
  /** Nothing listens at the RPC address (ECONNREFUSED), or the host is unreachable. */
  | 'rpc-unreachable'
  /** HTTP 401: the cookie or user/password was refused. */
  | 'rpc-unauthorized'
  /** No credentials: no cookie file and no --rpcuser/--rpcpassword. */
  | 'rpc-no-credentials'
  /** The node answered with a JSON-RPC error object (see `rpcCode`). */
  | 'rpc-error'
  /** Anything else on the wire: an HTTP status other than 200, a body that is not JSON-RPC. */
  | 'rpc-protocol';

export class RpcClientError extends CairnError {
  constructor(
    readonly code: RpcClientErrorCode,
    message: string,
    /** The JSON-RPC error code when `code` is `rpc-error`. */
    readonly rpcCode?: number,
  ) {
    super(message);
  }
}

export type FundsErrorCode = 'funds-insufficient' | 'funds-not-owned' | 'funds-not-registrant';

/** The wallet cannot pay for or does not hold what a transaction needs. */
export class FundsError extends CairnError {
  constructor(
    readonly code: FundsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type FeedErrorCode =
  /** The node's ZAP handler refused our CURVE key: it is not in the node's feed.subscribers. */
  | 'feed-key-refused'
  /** The feed speaks another security mechanism (CURVE against plain, or the other way round). */
  | 'feed-mechanism';

/** The node's feed will not serve us. */
export class FeedError extends CairnError {
  constructor(
    readonly code: FeedErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A command line that names something impossible (bad address, bad amount, bad id). */
export class CliUsageError extends CairnError {
  readonly code = 'cli-usage';
}

export type SwapErrorCode =
  /** The offer is not a transaction, not a transfer, or has nothing for this wallet to sign. */
  | 'swap-bad-offer'
  /** A signature of the other side does not verify: the transaction would be refused. */
  | 'swap-bad-signature'
  /** The user did not confirm. */
  | 'swap-declined';

/** A share swap offer that cannot be completed, or was not confirmed. */
export class SwapError extends CairnError {
  constructor(
    readonly code: SwapErrorCode,
    message: string,
  ) {
    super(message);
  }
}
