/**
 * The keys of a config schema and the keys the docs document, for the docs config-key test
 * (test/integration/docs-config-keys.test.ts; the convention is in docs/README.md, "Config
 * keys"). A key is a dotted path (`sip.flood.ban.window`); an item of a list of objects is
 * written `[]` (`peers[].id`).
 */
import type { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  element?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schema inside optional, default, prefault, nullable and pipe (transform) wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}

/** The objects a value may be: one, the options of a union of objects, or the items of a list of objects. */
function objectsOf(schema: z.ZodType): { shapes: Array<Record<string, z.ZodType>>; list: boolean } {
  const def = defOf(unwrap(schema));
  if (def.type === 'object') return { shapes: [def.shape!], list: false };
  if (def.type === 'union') return { shapes: def.options!.flatMap((o) => objectsOf(o).shapes), list: false };
  if (def.type === 'array') {
    const items = objectsOf(def.element!);
    return { shapes: items.shapes, list: items.shapes.length > 0 };
  }
  return { shapes: [], list: false };
}

export interface SchemaKeys {
  /** Keys whose value holds keys of its own (a section, a list of objects). */
  sections: Set<string>;
  /** Keys with a plain value (string, number, list of strings, tuple, ...). */
  leaves: Set<string>;
}

/** Every key of an object schema, at every depth. */
export function schemaKeys(schema: z.ZodType): SchemaKeys {
  const keys: SchemaKeys = { sections: new Set(), leaves: new Set() };
  const walk = (shape: Record<string, z.ZodType>, prefix: string) => {
    for (const [name, value] of Object.entries(shape)) {
      const key = `${prefix}${name}`;
      const { shapes, list } = objectsOf(value);
      if (shapes.length === 0) {
        keys.leaves.add(key);
        continue;
      }
      keys.sections.add(key);
      for (const s of shapes) walk(s, `${key}${list ? '[]' : ''}.`);
    }
  };
  for (const s of objectsOf(schema).shapes) walk(s, '');
  return keys;
}

/** A documented key: the page's line where a key table's row names it. */
export interface KeyRow {
  key: string;
  line: number;
}

const ROW = /^\|\s*`([^`]+)`\s*\|/;

/**
 * The rows of a page's key tables: tables whose first header cell is `key`. The first cell of
 * each row is the full key in backticks; a row whose first cell is anything else is returned
 * with that cell, so that the test reports it.
 */
export function documentedKeys(markdown: string): KeyRow[] {
  const rows: KeyRow[] = [];
  const lines = markdown.split('\n');
  let inKeyTable = false;
  lines.forEach((line, i) => {
    if (!line.startsWith('|')) {
      inKeyTable = false;
      return;
    }
    if (/^\|\s*key\s*\|/.test(line)) {
      inKeyTable = true;
      return;
    }
    if (!inKeyTable || /^\|\s*-+\s*\|/.test(line)) return;
    const m = ROW.exec(line);
    rows.push({ key: m ? m[1]! : line.split('|')[1]!.trim(), line: i + 1 });
  });
  return rows;
}
