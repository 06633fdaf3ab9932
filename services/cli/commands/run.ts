/** The type of a command handler and the wrapper main.ts gives every handler (context, errors). */
import type { Context } from './context.ts';

export type Handler = (ctx: Context, argv: Record<string, unknown>) => Promise<void>;
export type Runner = (h: Handler) => (argv: Record<string, unknown>) => Promise<void>;

/** `--wait N` and `--wait-timeout S` of the commands that send a transaction. */
export const waitOptions = {
  wait: {
    type: 'number',
    default: 0,
    describe: 'Wait for this many confirmations (progress bar on a terminal)',
  },
  'wait-timeout': { type: 'number', default: 600, describe: 'Seconds to wait at most' },
} as const;
