/**
 * The layers of agent/ (DESIGN.md §3, STYLE.md §1), checked on the import statements of every
 * agent/**\/*.ts file: no cycle between top-level folders, the directions DESIGN.md forbids, and
 * the packages only one layer may use. An allowed exception names its file and why.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENT = dirname(dirname(fileURLToPath(import.meta.url)));

interface Import {
  /** The importing file, relative to agent/ with '/' separators. */
  file: string;
  /** Its top-level folder, or '' for a file directly in agent/ (main.ts). */
  from: string;
  /** The agent/ folder imported ('' for main.ts), or the package name; undefined outside agent/. */
  to: string | undefined;
  /** The imported file relative to agent/ (relative imports inside agent/ only). */
  target?: string;
  isPackage: boolean;
}

const STATEMENT = [
  /^\s*(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]+?\s+from\s+['"]([^'"]+)['"]/gm,
  /^\s*import\s+['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function topOf(pathInAgent: string): string {
  const parts = pathInAgent.split('/');
  return parts.length > 1 ? parts[0]! : '';
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(AGENT, file), 'utf8');
  const out: Import[] = [];
  for (const pattern of STATEMENT) {
    for (const m of text.matchAll(pattern)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) {
        if (spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        out.push({ file, from: topOf(file), to: name, isPackage: true });
        continue;
      }
      const target = relative(AGENT, join(AGENT, dirname(file), spec)).split(sep).join('/');
      const inside = !target.startsWith('..');
      out.push({ file, from: topOf(file), to: inside ? topOf(target) : undefined, ...(inside ? { target } : {}), isPackage: false });
    }
  }
  return out;
}

const files = readdirSync(AGENT, { recursive: true, encoding: 'utf8' })
  .map((f) => f.split(sep).join('/'))
  .filter((f) => f.endsWith('.ts') && !f.includes('node_modules'));
const imports = files.flatMap(importsOf);
const internal = imports.filter((i) => !i.isPackage && i.to !== undefined && i.to !== i.from);

/** Imports that break a rule on purpose, by importing file and target folder or package, and why. */
const ALLOWED: Array<{ file: string; to: string; why: string }> = [
  {
    file: 'wire/change-batch.test.ts',
    to: 'store',
    why: 'a test: it round-trips changes that a real cr-sqlite store produced; wire/ code itself imports nothing of the agent',
  },
];
const allowed = (i: Import) => ALLOWED.some((a) => a.file === i.file && a.to === i.to);

function violations(rule: (i: Import) => boolean, among: Import[] = imports): string[] {
  return among.filter((i) => rule(i) && !allowed(i)).map((i) => `${i.file} imports ${i.isPackage ? 'package ' : ''}${i.to || 'main.ts'}`);
}

const test = suite('import layers');

test('the parser sees the imports (sanity: main.ts builds from sip/, store/ and sync/)', () => {
  const root = new Set(imports.filter((i) => i.file === 'main.ts').map((i) => i.to));
  for (const folder of ['sip', 'store', 'sync', 'switch', 'control']) assert.ok(root.has(folder), `main.ts -> ${folder}`);
  assert.ok(imports.some((i) => i.file === 'sync/broker-link.ts' && i.to === 'mqtt' && i.isPackage));
});

test('no cycle between top-level folders', () => {
  const edges = new Map<string, Set<string>>();
  for (const i of internal.filter((x) => !allowed(x))) {
    if (!edges.has(i.from)) edges.set(i.from, new Set());
    edges.get(i.from)!.add(i.to!);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (folder: string, path: string[]): void => {
    if (state.get(folder) === 'done') return;
    if (state.get(folder) === 'open') {
      cycles.push([...path.slice(path.indexOf(folder)), folder].map((f) => f || 'main.ts').join(' -> '));
      return;
    }
    state.set(folder, 'open');
    for (const next of edges.get(folder) ?? []) visit(next, [...path, folder]);
    state.set(folder, 'done');
  };
  for (const folder of edges.keys()) visit(folder, []);
  const witnesses = cycles.map((c) => {
    const [a, b] = c.split(' -> ');
    const example = internal.find((i) => (i.from || 'main.ts') === a && (i.to || 'main.ts') === b);
    return `${c} (e.g. ${example?.file})`;
  });
  assert.equal(witnesses, []);
});

test('sip/ never imports switch/', () => {
  assert.equal(violations((i) => i.from === 'sip' && i.to === 'switch', internal), []);
});

test('store/ imports nothing of the agent but config/ and lib/', () => {
  assert.equal(violations((i) => i.from === 'store' && !['config', 'lib'].includes(i.to!), internal), []);
});

test('wire/ imports nothing of the agent', () => {
  assert.equal(violations((i) => i.from === 'wire', internal), []);
});

test('only sync/ imports mqtt and aedes', () => {
  assert.equal(violations((i) => i.isPackage && ['mqtt', 'aedes'].includes(i.to!) && i.from !== 'sync'), []);
});

test('only store/ imports better-sqlite3 (the only code with SQL)', () => {
  assert.equal(violations((i) => i.isPackage && i.to === 'better-sqlite3' && i.from !== 'store'), []);
});

test('store/direct-sql.ts (SQL for tests) is imported by tests only', () => {
  assert.equal(violations((i) => i.target === 'store/direct-sql.ts' && !i.file.endsWith('.test.ts')), []);
});

test("only store/ reaches into the Store's private connection", () => {
  const reaching = files.filter((f) => !f.startsWith('store/') && f !== 'lib/import-layers.test.ts' && /\['db'\]/.test(readFileSync(join(AGENT, f), 'utf8')));
  assert.equal(reaching, []);
});

test('trust/ (CA, certificate identity, enrolment, broker ACL) imports nothing of the agent but lib/ and the wire/ leaf (the topic map)', () => {
  assert.equal(violations((i) => i.from === 'trust' && i.to !== 'lib' && i.to !== 'wire', internal), []);
});

test('only trust/x509.ts imports @peculiar/x509 and reflect-metadata (the X.509 library and its polyfill)', () => {
  assert.equal(violations((i) => i.isPackage && ['@peculiar/x509', 'reflect-metadata'].includes(i.to!) && i.file !== 'trust/x509.ts'), []);
});

test('the composition roots (main.ts, hub/) are imported by cli/ only', () => {
  assert.equal(violations((i) => (i.to === '' || i.to === 'hub') && !['cli', 'hub', ''].includes(i.from), internal), []);
});

test.run();
