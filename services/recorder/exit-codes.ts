/** cairn-recorder's exit codes (the same numbers as cairnd's): scripts can tell why it stopped. */
export const EXIT = {
  ok: 0,
  /** An unexpected failure at run time (see the log). */
  failure: 1,
  /** The configuration is invalid (the message names the key and where it came from). */
  config: 2,
  /** The identity is missing, malformed or readable by others. */
  identity: 4,
  /** Wrong command-line usage. */
  usage: 64,
} as const;
