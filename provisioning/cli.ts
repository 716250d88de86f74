/**
 * `outpost-flash IMAGE DEVICE|FILE --site S --claim CODE [--hub URL] [--node ID]` (docs/flash.md):
 * reads the command line, wires the real machine into flash.ts, prints the report. Returns the
 * exit code: 0 flashed, 1 I/O failure, 2 usage, 3 refused target, 4 verification failed.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError } from 'commander';
import { exitCodeOf, FlashError } from './errors.ts';
import { flash, statTarget, type FlashDeps } from './flash.ts';
import { checkOptions, parseClaimFile, type ClaimFile, type RawOptions } from './options.ts';
import { qrLines, reportLines, siteRecord } from './report.ts';
import { readSystemFacts } from './system-facts.ts';
import { openSink } from './writer.ts';

/** `outpost-flash 0.1.0`: the tool and the version of the repository it comes from. */
function toolName(): string {
  return `outpost-flash ${(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version}`;
}

export interface CliIo {
  out: (line: string) => void;
  err: (text: string) => void;
  deps?: Partial<FlashDeps>;
}

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const program = new Command('outpost-flash')
    .description('write an Outpost box image to a disk or a file, verify it, and give the box its claim code for its first boot')
    .argument('<image>', 'outpost-arm64.img or outpost-arm64.img.zst (SHA256SUMS beside it is checked)')
    .argument('<target>', 'the box\'s disk (/dev/sdX, /dev/mmcblkN, /dev/loopN) or a file')
    .option('--site <site>', 'the site the box belongs to')
    .option('--claim <code>', 'the claim code made at the hub (outpost enrol create, or outpost node replace)')
    .option('--claim-file <file>', 'the claim file of `outpost enrol create --write` (code, hub, site, expiry)')
    .option('--hub <url>', "the hub's enrolment address, https://HOST:PORT")
    .option('--node <id>', 'the node id of the box this one replaces (a swap)')
    .option('--yes', 'do not ask before erasing the target')
    .option('--no-qr', 'do not print the site record as a QR code')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: () => undefined });
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    io.err(`outpost-flash: ${(err as Error).message.replace(/^error: /, '')}\n`);
    return 2;
  }
  const [image, target] = program.args as [string, string];
  const opts = program.opts<Omit<RawOptions, 'image' | 'target'> & { claimFile?: string }>();
  try {
    let file: ClaimFile | undefined;
    if (opts.claimFile !== undefined) file = parseClaimFile(readText(opts.claimFile), opts.claimFile);
    const o = checkOptions({ ...opts, image, target }, file);
    const deps: FlashDeps = {
      facts: readSystemFacts,
      statTarget,
      openSink,
      now: Date.now,
      out: io.out,
      progress: io.err,
      tty: process.stderr.isTTY === true,
      confirm: process.stdin.isTTY && process.stderr.isTTY ? askOnTerminal : undefined,
      tool: toolName(),
      ...io.deps,
    };
    const result = await flash(o, deps);
    const now = new Date(deps.now());
    for (const line of reportLines(o, result, now)) io.out(line);
    if (o.qr) {
      const record = siteRecord(o, result, now);
      io.out(`  site record ${record}`);
      for (const line of await qrLines(record)) io.out(line);
    }
    return 0;
  } catch (err) {
    if (io.deps?.tty ?? process.stderr.isTTY) io.err('\n');
    io.err(`outpost-flash: ${err instanceof Error ? err.message : String(err)}\n`);
    return exitCodeOf(err);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new FlashError('flash.usage', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

function defaultIo(): CliIo {
  return { out: (line) => process.stdout.write(`${line}\n`), err: (text) => process.stderr.write(text) };
}
