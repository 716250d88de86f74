// Preloaded into the hub by bench/tls-connections.ts (with --expose-gc): on SIGUSR2 it runs a
// full garbage collection and writes process.memoryUsage() (bytes) as JSON to the file named by
// OUTPOST_BENCH_MEMORY_FILE, so the bench reads the hub's heap as well as its RSS.
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env.OUTPOST_BENCH_MEMORY_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    globalThis.gc?.();
    writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), gc: typeof globalThis.gc === 'function', ...process.memoryUsage() }));
    renameSync(`${file}.tmp`, file);
  });
}
