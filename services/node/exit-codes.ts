/** cairnd's exit codes: scripts and service managers can tell why it stopped. */
import { EXIT_COMMON } from '../../shared/cli/exit.ts';

export const EXIT = {
  ...EXIT_COMMON,
  ok: 0,
  /** An unexpected failure at run time (see the log). */
  failure: 1,
  /** The configuration is invalid (the message names the key and where it came from). */
  config: 2,
  /** The database cannot be used (wrong network, newer schema, disk full, damaged). */
  storage: 3,
  /** The identity is missing, malformed or readable by others. */
  identity: 4,
  /** Another cairnd already runs with this data directory. */
  alreadyRunning: 5,
  /** export-blocks / import-blocks: the archive cannot be read or written, is damaged, of another network, or holds an invalid block. */
  archive: 6,
  /** export-blocks / import-blocks stopped by SIGINT/SIGTERM before the end (an import resumes when run again). */
  interrupted: 130,
  /** Wrong command-line usage. */
  usage: 64,
} as const;
