// Preloaded into the Outpost node by `bench/calls.ts --trace-gc` through
// NODE_OPTIONS="--import .../gc-trace-preload.mjs" (node refuses --trace-gc in NODE_OPTIONS).
// Writes one JSON line per garbage collection to stdout, where the node's own JSON log lines go
// and where the bench reads them: {"benchGc":"major"|"minor"|"incremental"|"weakcb","ms":1.23}.
import { PerformanceObserver, constants } from 'node:perf_hooks';

const kinds = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = kinds[e.detail?.kind ?? e.kind] ?? 'other';
    process.stdout.write(`${JSON.stringify({ benchGc: kind, ms: Math.round(e.duration * 1000) / 1000 })}\n`);
  }
});
obs.observe({ entryTypes: ['gc'] });
