import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CODEC_NAMES, normaliseCodecName, parseCodecList } from './codec-names.ts';

const names = suite('codec names');

names('normaliseCodecName: any case to the codec library spelling', () => {
  assert.equal([...CODEC_NAMES], ['PCMA', 'PCMU', 'G722', 'opus', 'G729']);
  assert.is(normaliseCodecName('pcma'), 'PCMA');
  assert.is(normaliseCodecName('OPUS'), 'opus');
  assert.is(normaliseCodecName(' g722 '), 'G722');
  for (const n of CODEC_NAMES) assert.is(normaliseCodecName(n), n);
  assert.is(normaliseCodecName('G711'), undefined);
  assert.is(normaliseCodecName(''), undefined);
  assert.is(normaliseCodecName('toString'), undefined);
});

names('parseCodecList: comma-separated, case-insensitive, spaces trimmed, order kept', () => {
  assert.equal(parseCodecList('opus,PCMA'), { codecs: ['opus', 'PCMA'] });
  assert.equal(parseCodecList(' g729 , pcmu,OPUS '), { codecs: ['G729', 'PCMU', 'opus'] });
  assert.equal(parseCodecList('G722'), { codecs: ['G722'] });
});

names('parseCodecList: one-line errors name the bad entry or the duplicate', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /^empty codec list/],
    ['  ', /^empty codec list/],
    ['opus,,PCMA', /^empty entry in codec list "opus,,PCMA"$/],
    ['opus,', /^empty entry/],
    ['opus,G711', /^unknown codec "G711": use PCMA, PCMU, G722, opus, G729$/],
    ['pcma,opus,PCMA', /^codec PCMA is listed twice$/],
    ['opus,bad\nname', /^unknown codec "bad\\nname"/],
  ];
  for (const [text, message] of cases) {
    const result = parseCodecList(text);
    if (!('problem' in result)) return assert.unreachable(`"${text}" should be refused`);
    assert.match(result.problem, message);
    assert.not.match(result.problem, '\n');
  }
});

names.run();
