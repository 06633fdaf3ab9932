/** Control RPCs: help, uptime, stop. */
import type { MethodDef, MethodRegistry } from '../method.ts';
import type { NodeApi } from './api.ts';

export function controlMethods(api: NodeApi, registry: MethodRegistry): MethodDef[] {
  return [
    {
      name: 'help',
      help: 'Lists the methods, or describes COMMAND.',
      params: [{ name: 'command', type: 'string', optional: true }],
      run: ({ command }) => {
        if (typeof command === 'string') {
          const m = registry.get(command);
          if (m === undefined) return `help: unknown command: ${command}`;
          const args = m.params.map((p) => (p.optional ? `( ${p.name} )` : p.name)).join(' ');
          return `${m.name} ${args}\n\n${m.help}`;
        }
        return registry
          .names()
          .sort()
          .map((n) =>
            `${n} ${registry
              .get(n)!
              .params.map((p) => (p.optional ? `( ${p.name} )` : p.name))
              .join(' ')}`.trim(),
          )
          .join('\n');
      },
    },
    {
      name: 'uptime',
      help: 'Seconds since the node started.',
      params: [],
      run: () => api.clock() - api.startedAt,
    },
    {
      name: 'stop',
      help: 'Stops the node cleanly.',
      params: [],
      run: () => {
        setImmediate(() => api.requestStop());
        return 'Cairn server stopping';
      },
    },
  ];
}
