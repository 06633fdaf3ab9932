/** The feed's RPC: which notifications are published where (Bitcoin Core's getzmqnotifications). */
import { DEFAULT_SEND_HWM } from '../../../../shared/zmq/publisher.ts';
import type { MethodDef } from '../method.ts';
import type { NodeApi } from './api.ts';

export function zmqMethods(api: NodeApi): MethodDef[] {
  return [
    {
      name: 'getzmqnotifications',
      help: 'The active feed notifications: type (pubhashblock, pubrawtx, …), address and high-water mark.',
      params: [],
      run: () =>
        api.feed.flatMap((e) =>
          e.topics.map((topic) => ({
            type: `pub${topic}`,
            address: `tcp://${e.address}`,
            hwm: DEFAULT_SEND_HWM,
          })),
        ),
    },
  ];
}
