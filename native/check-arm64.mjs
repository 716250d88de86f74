// Loads the arm64 native libraries the way the box does, under qemu-aarch64-static with the
// arm64 Node and the arm64 node_modules: cr-sqlite into better-sqlite3 (a CRR, an insert, its
// row in crsql_changes, crsql_finalize) and the codec library through koffi (its codec list and
// one G.711 encode). Plain JavaScript: the arm64 Node runs it without tsx. Run by
// native/check-arm64.sh:
//   node check-arm64.mjs <dir holding node_modules> <crsqlite.so> <liboutpostcodec.so>
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [modulesDir, crsqlitePath, codecPath] = process.argv.slice(2);
if (!modulesDir || !crsqlitePath || !codecPath) {
  console.error('usage: check-arm64.mjs <modules dir> <crsqlite.so> <liboutpostcodec.so>');
  process.exit(2);
}
const fail = (what) => {
  console.error(`check-arm64: FAIL: ${what}`);
  process.exit(1);
};
const require = createRequire(join(modulesDir, 'package.json'));
console.log(`check-arm64: node ${process.version} on ${process.arch}`);
if (process.arch !== 'arm64') fail(`expected an arm64 Node, got ${process.arch}`);

const Database = require('better-sqlite3');
const db = new Database(':memory:');
db.loadExtension(crsqlitePath);
db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT)');
db.prepare("SELECT crsql_as_crr('t')").get();
db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').run(1, 'arm64');
const changes = db.prepare('SELECT "table" AS tbl, cid, val FROM crsql_changes').all();
const row = changes.find((c) => c.tbl === 't' && c.cid === 'v');
if (!row || row.val !== 'arm64') fail(`crsql_changes lacks the insert: ${JSON.stringify(changes)}`);
const sha = db.prepare('SELECT crsql_sha() AS s').get().s;
db.prepare('SELECT crsql_finalize()').get();
db.close();
console.log(`check-arm64: cr-sqlite ${sha}: crsql_as_crr, insert, ${changes.length} row(s) in crsql_changes, crsql_finalize`);

const koffi = require('koffi');
const lib = koffi.load(codecPath);
const count = lib.func('op_codec_count', 'int', []);
const name = lib.func('op_codec_name', 'const char *', ['int']);
const names = Array.from({ length: count() }, (_, i) => name(i));
for (const want of ['PCMA', 'PCMU', 'G722', 'opus', 'G729']) {
  if (!names.includes(want)) fail(`codec ${want} missing from the codec library (has ${names.join(' ')})`);
}
const codecPtr = koffi.pointer('op_codec_ptr', koffi.opaque('op_codec'));
const create = lib.func('op_codec_create', codecPtr, ['const char *', 'int', koffi.out(koffi.pointer('int'))]);
const encode = lib.func('op_codec_encode', 'int', [codecPtr, 'int16_t *', 'int', 'uint8_t *', 'int']);
const destroy = lib.func('op_codec_destroy', 'void', [codecPtr]);
const rc = [0];
const pcma = create('PCMA', 20, rc);
if (!pcma) fail(`op_codec_create(PCMA, 20) returned NULL (rc ${rc[0]})`);
const pcm = new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
const out = new Uint8Array(160);
const bytes = encode(pcma, pcm, pcm.length, out, out.length);
destroy(pcma);
if (bytes !== 160) fail(`op_codec_encode(PCMA, 160 samples) gave ${bytes}, not 160 bytes`);
console.log(`check-arm64: codec library: ${names.join(' ')}; PCMA encoded 160 samples to ${bytes} bytes`);
