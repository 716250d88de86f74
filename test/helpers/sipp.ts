/** Runs sipp (Debian package sip-tester) to completion with a bounded call count and timeout. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SippRun {
  scenario: string;
  target: { host: string; port: number };
  transport: 'u1' | 'un' | 't1' | 'tn';
  calls: number;
  rate: number;
  /** CSV rows for -inf (written SEQUENTIAL). */
  injection: string[];
  dir: string;
  localIp?: string;
  timeoutS?: number;
  maxConcurrent?: number;
}

export function runSipp(run: SippRun): Promise<SippResult> {
  const inf = join(run.dir, `inject-${process.hrtime.bigint()}.csv`);
  writeFileSync(inf, `SEQUENTIAL\n${run.injection.join('\n')}\n`);
  const args = [
    `${run.target.host}:${run.target.port}`,
    '-sf', run.scenario,
    '-inf', inf,
    '-t', run.transport,
    '-i', run.localIp ?? '127.0.0.1',
    '-m', String(run.calls),
    '-r', String(run.rate),
    '-l', String(run.maxConcurrent ?? 100),
    '-timeout', `${run.timeoutS ?? 60}s`,
    '-timeout_error',
    '-nostdin',
    '-max_socket', '1000',
  ];
  return new Promise((resolve) => {
    const proc = spawn('sipp', args, { cwd: run.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Successful and failed call counts from sipp's final statistics screen. */
export function sippCounts(stdout: string): { successful: number; failed: number } {
  const num = (label: string) => {
    const m = new RegExp(`${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`).exec(stdout);
    return m ? Number(m[1]) : -1;
  };
  return { successful: num('Successful call'), failed: num('Failed call') };
}
