/**
 * Size caps that are part of the encoding itself (the same on every network): a decoder checks
 * each length against these before it reads or allocates. Per-network limits (block size) are in
 * params and may only be lower.
 */
export const HASH_SIZE = 32;
export const OWNER_SIZE = 20;
export const PUBKEY_SIZE = 33;
export const SIGNATURE_SIZE = 64;

export const MAX_TX_SIZE = 1_000_000;
export const MAX_BLOCK_SIZE = 8_000_000;
export const MAX_COINBASE_DATA = 64;
export const MAX_ASSET_NAME = 64;
export const MAX_ASSET_FINGERPRINT = 1024;
export const MAX_ASSET_METADATA = 2048;
/**
 * Most shares a bitmark may be split into (and so the most of one kind any output or sum holds):
 * 10^15, a billion shares for each of a million holders. Two such values add up to less than
 * 2^53, so a sum checked against the cap after every addition is always exact in a JS number.
 */
export const MAX_SHARES = 1_000_000_000_000_000;

/** Smallest possible encodings, used to bound list counts by the bytes actually left. */
export const MIN_INPUT_SIZE = HASH_SIZE + 1 + PUBKEY_SIZE + SIGNATURE_SIZE;
export const MIN_OUTPUT_SIZE = OWNER_SIZE + 1 + 1;
/** A transfer with no inputs and no outputs: 4 bytes, the least any transaction encoding takes. */
export const MIN_TX_SIZE = 4;
