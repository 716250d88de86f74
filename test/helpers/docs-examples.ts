/**
 * Reads the checked examples of the docs (the convention is in docs/README.md, "Examples that are
 * checked"): ```console blocks of `$ outpost ...` commands with their output, and ```yaml blocks
 * whose info string names a file (`yaml file=outpost.yaml`). Also matches shown output against
 * real output, where `…` stands for any text within a line and a line of only `…` for any
 * number of lines.
 */
import { HarnessError } from '../../bench/lib/harness-error.ts';

/** One step of a page, in page order: a file to write, or a command with its shown output. */
export type DocStep =
  | { kind: 'file'; line: number; name: string; text: string }
  | { kind: 'command'; line: number; command: string; expected: string[]; exit: number };

const FENCE = /^(\s*)```(\S*)(.*)$/;
const EXIT = /^(.*?)\s*\(exit (\d+)\)$/;

/** The steps of one markdown page. `line` is 1-based, the line of the file name or the command. */
export function parseDocSteps(markdown: string): DocStep[] {
  const lines = markdown.split('\n');
  const steps: DocStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const indent = open[1]!;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trimStart().startsWith('```')) end++;
    const body = lines.slice(start + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
    i = end;
    const lang = open[2]!;
    const file = /\bfile=(\S+)/.exec(open[3]!);
    if (lang === 'yaml' && file) steps.push({ kind: 'file', line: start + 1, name: file[1]!, text: body.join('\n') + '\n' });
    if (lang === 'console') steps.push(...parseConsole(body, start + 2));
  }
  return steps;
}

function parseConsole(body: string[], firstLine: number): DocStep[] {
  const steps: Array<Extract<DocStep, { kind: 'command' }>> = [];
  body.forEach((text, k) => {
    if (text.startsWith('$ ')) {
      steps.push({ kind: 'command', line: firstLine + k, command: text.slice(2).trim(), expected: [], exit: 0 });
      return;
    }
    const step = steps.at(-1);
    if (!step) throw new HarnessError(`line ${firstLine + k}: a console block must start with a "$ " command line`);
    step.expected.push(text.trimEnd());
  });
  for (const step of steps) {
    while (step.expected.length > 0 && step.expected.at(-1) === '') step.expected.pop();
    const last = step.expected.at(-1);
    const exit = last === undefined ? null : EXIT.exec(last);
    if (exit) {
      step.exit = Number(exit[2]);
      if (exit[1] === '') step.expected.pop();
      else step.expected[step.expected.length - 1] = exit[1]!;
    }
  }
  return steps;
}

/** Splits a command line into words the way a POSIX shell does for '...', "..." and plain words. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'" || c === '"') {
      const close = command.indexOf(c, i + 1);
      if (close < 0) throw new HarnessError(`unclosed ${c} in: ${command}`);
      word = (word ?? '') + command.slice(i + 1, close);
      i = close;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

const PLACEHOLDER = '…';

function lineMatcher(expected: string): RegExp {
  const parts = expected.split(PLACEHOLDER).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's');
}

/** Whether `actual` is what `expected` shows, placeholders included. */
export function outputMatches(expected: string[], actual: string[]): boolean {
  const matchers = expected.map((e) => (e === PLACEHOLDER ? null : lineMatcher(e)));
  const memo = new Map<number, boolean>();
  const from = (i: number, j: number): boolean => {
    const key = i * (actual.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let ok: boolean;
    if (i === matchers.length) ok = j === actual.length;
    else if (matchers[i] === null) ok = from(i + 1, j) || (j < actual.length && from(i, j + 1));
    else ok = j < actual.length && matchers[i]!.test(actual[j]!) && from(i + 1, j + 1);
    memo.set(key, ok);
    return ok;
  };
  return from(0, 0);
}

/** The fewest first lines of `actual` that `expected` shows, or undefined if no prefix matches. */
export function matchingPrefix(expected: string[], actual: string[]): number | undefined {
  for (let k = 0; k <= actual.length; k++) if (outputMatches(expected, actual.slice(0, k))) return k;
  return undefined;
}

/** Output text as lines, without the line break at the end and with trailing spaces removed. */
export function outputLines(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}
