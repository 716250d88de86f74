/**
 * Runs the checked examples of docs/cli/*.md (```console blocks, convention in docs/README.md)
 * and compares what each command prints and its exit code with what the page shows. Each page
 * runs as one session in a fresh temporary folder holding the example files of docs/cli/README.md
 * (configs on 127.0.0.1 with OS-chosen ports), in page order; `outpost ... &` starts a process in
 * the background (a node or hub) and `kill [-INT] %N` stops it. The other commands run in one
 * child process that loads the agent once (test/helpers/docs-cli-runner.ts).
 * Runs alone too: node --import tsx test/integration/docs-cli-examples.test.ts (DOCS_PAGE=user.md: one page)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OUTPOST_BIN, ROOT, tempDir } from '../../bench/lib/node-process.ts';
import { RUNNER_FILE, type RunRequest, type RunResult } from '../helpers/docs-cli-runner.ts';
import { matchingPrefix, outputLines, outputMatches, parseDocSteps, shellWords, type DocStep } from '../helpers/docs-examples.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

const CLI_DOCS = join(ROOT, 'docs/cli');
const BACKGROUND_WAIT_MS = 20_000;

interface Job {
  proc: ChildProcess;
  /** What it printed so far, stdout and stderr as they came. */
  lines: string[];
  partial: string;
  shown: number;
  exit: Promise<number | null>;
}

/** One process that runs the short commands in turn (loading the agent once), see docs-cli-runner.ts. */
class Runner {
  private readonly proc = spawn(process.execPath, ['--import', 'tsx', RUNNER_FILE], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

  run(req: RunRequest): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new HarnessError(`the docs CLI runner exited with ${code}`));
      this.proc.once('exit', onExit);
      this.proc.once('message', (res) => {
        this.proc.off('exit', onExit);
        resolve(res as RunResult);
      });
      this.proc.send(req);
    });
  }

  close(): void {
    this.proc.kill('SIGKILL');
  }
}

function startJob(args: string[], cwd: string): Job {
  const proc = spawn(process.execPath, [OUTPOST_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const job: Job = { proc, lines: [], partial: '', shown: 0, exit: new Promise((resolve) => proc.once('close', (code) => resolve(code))) };
  const take = (chunk: Buffer) => {
    job.partial += chunk.toString();
    let nl: number;
    while ((nl = job.partial.indexOf('\n')) >= 0) {
      job.lines.push(job.partial.slice(0, nl).trimEnd());
      job.partial = job.partial.slice(nl + 1);
    }
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  return job;
}

function describe(page: string, step: Extract<DocStep, { kind: 'command' }>, actual: string[], code: number | null): string {
  return [
    `docs/cli/${page}:${step.line}: $ ${step.command}`,
    `shown (exit ${step.exit}):`,
    ...step.expected.map((l) => `  ${l}`),
    `printed (exit ${code}):`,
    ...actual.map((l) => `  ${l}`),
  ].join('\n');
}

async function runPage(page: string, common: DocStep[], runner: Runner): Promise<void> {
  const dir = tempDir('outpost-docs-');
  const jobs: Job[] = [];
  const steps = parseDocSteps(readFileSync(join(CLI_DOCS, page), 'utf8'));
  try {
    for (const step of [...common, ...steps]) {
      if (step.kind === 'file') {
        writeFileSync(join(dir, step.name), step.text);
        continue;
      }
      const words = shellWords(step.command);
      if (words[0] === 'outpost' && words.at(-1) === '&') {
        const job = startJob(words.slice(1, -1), dir);
        jobs.push(job);
        const deadline = Date.now() + BACKGROUND_WAIT_MS;
        let shown: number | undefined;
        while ((shown = matchingPrefix(step.expected, job.lines)) === undefined && Date.now() < deadline && job.proc.exitCode === null) {
          await new Promise((r) => setTimeout(r, 50));
        }
        if (shown === undefined) assert.unreachable(describe(page, step, job.lines, job.proc.exitCode));
        job.shown = shown!;
      } else if (words[0] === 'outpost') {
        const res = await runner.run({ args: words.slice(1), cwd: dir });
        const actual = [...outputLines(res.stdout), ...outputLines(res.stderr)];
        if (!outputMatches(step.expected, actual) || res.code !== step.exit) assert.unreachable(describe(page, step, actual, res.code));
      } else if (words[0] === 'kill' && /^%\d+$/.test(words.at(-1)!)) {
        const job = jobs[Number(words.at(-1)!.slice(1)) - 1];
        if (!job) throw new HarnessError(`docs/cli/${page}:${step.line}: no job ${words.at(-1)}`);
        job.proc.kill(words.length === 3 ? (`SIG${words[1]!.slice(1)}` as NodeJS.Signals) : 'SIGTERM');
        const code = await job.exit;
        if (job.partial !== '') job.lines.push(job.partial.trimEnd());
        const actual = job.lines.slice(job.shown);
        if (!outputMatches(step.expected, actual) || code !== step.exit) assert.unreachable(describe(page, step, actual, code));
      } else {
        throw new HarnessError(`docs/cli/${page}:${step.line}: only "outpost ..." and "kill %N" run in examples: ${step.command}`);
      }
    }
  } finally {
    for (const job of jobs) if (job.proc.exitCode === null && job.proc.signalCode === null) job.proc.kill('SIGKILL');
  }
}

/** DOCS_PAGE=user.md runs one page (while editing it). */
const pages = readdirSync(CLI_DOCS).filter((f) => f.endsWith('.md') && (process.env['DOCS_PAGE'] ?? f) === f).sort();
const common = parseDocSteps(readFileSync(join(CLI_DOCS, 'README.md'), 'utf8')).filter((s) => s.kind === 'file');
const docs = suite<{ runner: Runner }>('docs/cli examples');

docs.before((ctx) => {
  ctx.runner = new Runner();
});

docs.after((ctx) => {
  ctx.runner.close();
});

for (const page of pages) {
  docs(`docs/cli/${page}: every console example prints what it shows`, async (ctx) => {
    const steps = parseDocSteps(readFileSync(join(CLI_DOCS, page), 'utf8'));
    if (page !== 'README.md') assert.ok(steps.some((s) => s.kind === 'command'), `docs/cli/${page} has no checked example`);
    await runPage(page, common, ctx.runner);
  });
}

docs('the example files exist and a changed output line fails the comparison', () => {
  assert.ok(common.length > 0, 'docs/cli/README.md shows no example files');
  assert.ok(outputMatches(['added user 1001 in realm …'], ['added user 1001 in realm branch-a.example']));
  assert.not.ok(outputMatches(['added user 1001 in realm …'], ['updated user 1001 in realm branch-a.example']));
  assert.ok(outputMatches(['a', '…', 'z'], ['a', 'b', 'c', 'z']));
  assert.ok(outputMatches(['a', '…', 'z'], ['a', 'z']));
  assert.not.ok(outputMatches(['a', 'z'], ['a', 'b', 'z']));
  assert.is(matchingPrefix(['a', 'b'], ['a', 'b', 'c']), 2);
});

docs('a page reads as steps: files, commands, their output and exit codes', () => {
  const page = [
    '```yaml file=x.yaml', 'a: 1', '```', 'text', '- item', '  ```console', "  $ outpost user add 'bad ext' -c x.yaml",
    '  outpost: invalid   (exit 1)', '  $ outpost user list -c x.yaml', '  1001  Ann', '  ```', '```', '$ outpost not run', '```',
  ].join('\n');
  assert.equal(parseDocSteps(page), [
    { kind: 'file', line: 1, name: 'x.yaml', text: 'a: 1\n' },
    { kind: 'command', line: 7, command: "outpost user add 'bad ext' -c x.yaml", expected: ['outpost: invalid'], exit: 1 },
    { kind: 'command', line: 9, command: 'outpost user list -c x.yaml', expected: ['1001  Ann'], exit: 0 },
  ]);
  assert.equal(shellWords(`outpost user add 'bad ext' --name "Ann Example" x`), ['outpost', 'user', 'add', 'bad ext', '--name', 'Ann Example', 'x']);
});

docs.run();
