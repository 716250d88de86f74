/**
 * What every bench does around its measurements: the machine it ran on, Outpost's version, the
 * one JSON line on stdout, and the entry point (a failure tears everything down, is logged and
 * sets exit code 1; after a signal the Teardown's handler has the last word).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './node-process.ts';
import type { Teardown } from './teardown.ts';

export function machine(): { cores: number; cpu: string; node: string } {
  const cpu = cpus();
  return { cores: cpu.length, cpu: cpu[0]?.model.trim() ?? 'unknown', node: process.version };
}

export function kernelVersion(): string {
  return spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
}

export function outpostVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The bench's result: exactly one JSON line on stdout. */
export function printResult(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export function runMain(main: () => Promise<void>, log: (msg: string) => void, teardown?: Teardown): void {
  main().catch(async (err: unknown) => {
    if (teardown?.interrupted) return; // the signal handler cleans up and exits
    await teardown?.runAll();
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  });
}
