// Preloaded into the Outpost node by `bench/register.ts --cpu-prof` through
// NODE_OPTIONS="--import .../cpu-profile-preload.mjs" (node refuses --cpu-prof itself in
// NODE_OPTIONS). Starts the V8 sampling profiler at once and writes a .cpuprofile, loadable in
// Chrome DevTools or speedscope, into OUTPOST_BENCH_CPU_PROF_DIR when the process exits.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.OUTPOST_BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.once('exit', () => {
    // The in-thread session answers synchronously, so this completes before the exit.
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      writeFileSync(join(dir, `outpost-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
