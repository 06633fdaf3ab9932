/** Control RPCs: help, uptime, getmemoryinfo, stop. */
import { statusMemory } from '../../memory/file-mappings.ts';
import { loadNativeMemory } from '../../memory/native.ts';
import { type MethodDef, type MethodRegistry, RPC, RpcError } from '../method.ts';
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
      name: 'getmemoryinfo',
      help: 'Memory of the node process in bytes. Mode "mallocinfo": glibc\'s malloc_info XML, as Bitcoin Core. Mode "stats" (the default): Bitcoin Core\'s `locked` (Cairn locks no memory: zeros), and `process`: resident memory (rss = anon + file + shmem; anon is what only this process holds, file the pages mapped from files: the binary and LMDB\'s map, which the kernel may reclaim), the JS heap and buffers, and `lmdbmap`: the storage.map_cache_mb budget and what was released, and the idle trims (storagereleases: those that also reopened LMDB to free its write pages); enforced is false when the budget cannot be kept (the native addon is not built, or a release failed).',
      params: [{ name: 'mode', type: 'string', optional: true }],
      run: ({ mode }) => {
        if (mode === 'mallocinfo') {
          const native = loadNativeMemory();
          const xml = typeof native === 'string' ? null : native.mallocInfo();
          if (xml === null)
            throw new RpcError(
              RPC.INVALID_PARAMETER,
              `mallocinfo mode not available: ${typeof native === 'string' ? native : 'this C library has no malloc_info'}`,
            );
          return xml;
        }
        if (mode !== undefined && mode !== 'stats')
          throw new RpcError(RPC.INVALID_PARAMETER, `unknown mode ${String(mode)}: "stats" or "mallocinfo"`);
        const proc = statusMemory();
        const js = process.memoryUsage();
        const trim = api.memory;
        return {
          locked: { used: 0, free: 0, total: 0, locked: 0, chunks_used: 0, chunks_free: 0 },
          process: {
            rss: proc?.rss ?? js.rss,
            anon: proc?.anon ?? null,
            file: proc?.file ?? null,
            heapused: js.heapUsed,
            heaptotal: js.heapTotal,
            external: js.external,
            arraybuffers: js.arrayBuffers,
          },
          lmdbmap:
            trim === undefined
              ? null
              : {
                  budget: trim.budgetBytes,
                  enforced: trim.enforcing,
                  releases: trim.releases,
                  released: trim.releasedBytes,
                  idletrims: trim.idleTrims,
                  storagereleases: trim.storageReleases,
                },
        };
      },
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
