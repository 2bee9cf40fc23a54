#!/usr/bin/env node
// Tokenizer parity: HuggingFace's official Node binding (npm `tokenizers`, pinned in
// package-lock.json) against `ram tokenize`, on every corpus line, for each tokenizer folder:
//   encode with add_special_tokens true and false,
//   decode (skip_special_tokens true and false) of those ids and of cut id lists (first and
//   last id dropped, every other id) that split multi-byte characters (lossy UTF-8).
// Usage: node parity.js --ram BIN --tokenizers DIR --corpus FILE [--families a,b]
//                       [--corrupt]  (flip one expected id: must then report a mismatch)
// Exit 0 when everything matches, 1 on the first mismatch (printed with context), 2 on a
// setup error. With --corrupt the exit codes of "mismatch found" and "all equal" swap, so the
// ctest entry that runs it proves the comparison can fail.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

function die(msg, code = 2) {
  process.stderr.write(`parity: error: ${msg}\n`);
  process.exit(code);
}

const args = {};
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  if (a === '--corrupt') args.corrupt = true;
  else if (a.startsWith('--')) args[a.slice(2)] = process.argv[++i];
  else die(`unexpected argument ${a}`);
}
for (const k of ['ram', 'tokenizers', 'corpus']) if (!args[k]) die(`--${k} is required`);

let Tokenizer, hfVersion;
try {
  ({ Tokenizer } = require('tokenizers'));
  hfVersion = require('tokenizers/package.json').version;
} catch (e) {
  die(`cannot load the npm package "tokenizers" (${e.message}); run npm ci in the test's node folder (NODE_PATH=${process.env.NODE_PATH || ''})`);
}

const families = args.families ? args.families.split(',')
                               : ['llama3', 'qwen2_5', 'qwen3', 'gpt_neox', 'gpt2'];
const texts = fs.readFileSync(args.corpus, 'utf8').split('\n').filter((l) => l.length > 0)
  .map((l, i) => {
    try { return JSON.parse(l).text; } catch (e) { die(`${args.corpus}:${i + 1}: ${e.message}`); }
  });

function ram(dir, flags, lines) {
  const r = spawnSync(args.ram, ['tokenize', '--tokenizer', dir, ...flags], {
    input: lines.map((o) => JSON.stringify(o)).join('\n') + '\n',
    maxBuffer: 1 << 30, encoding: 'utf8',
  });
  if (r.error) die(`cannot run ${args.ram}: ${r.error.message}`);
  if (r.status !== 0) die(`ram tokenize ${flags.join(' ')} on ${dir} exited ${r.status}: ${r.stderr}`);
  const out = r.stdout.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  if (out.length !== lines.length) die(`ram tokenize gave ${out.length} lines for ${lines.length}`);
  return out;
}

const show = (x) => JSON.stringify(x);
let mismatches = 0;
function report(family, what, index, text, expected, got, tok) {
  ++mismatches;
  if (mismatches > (args['max-report'] ? Number(args['max-report']) : 1)) return;
  let at = 0;
  if (Array.isArray(expected)) {
    while (at < expected.length && at < got.length && expected[at] === got[at]) ++at;
  } else {
    while (at < expected.length && expected[at] === got[at]) ++at;
  }
  const lo = Math.max(0, at - 4);
  const ctx = (xs) => (Array.isArray(xs)
    ? xs.slice(lo, at + 5).map((id) => `${id}:${show(tok.idToToken(id))}`).join(' ')
    : show(xs.slice(lo, at + 20)));
  process.stdout.write(
    `MISMATCH ${family} ${what}, corpus line ${index + 1}: ${show(text).slice(0, 300)}\n` +
    `  first difference at ${Array.isArray(expected) ? 'id' : 'char'} #${at}\n` +
    `  expected (HF tokenizers ${hfVersion}) ...${ctx(expected)}\n` +
    `  got      (ram tokenize)             ...${ctx(got)}\n` +
    `  expected full: ${show(expected).slice(0, 600)}\n  got full:      ${show(got).slice(0, 600)}\n`);
}
const same = (a, b) => (Array.isArray(a) ? a.length === b.length && a.every((x, i) => x === b[i]) : a === b);

(async () => {
  let checked = 0;
  for (const family of families) {
    const dir = family.includes("/") ? family : path.join(args.tokenizers, family);
    const tok = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    // encode
    const enc = [];
    for (const text of texts)
      for (const add of [false, true]) {
        const e = await tok.encode(text, null, { addSpecialTokens: add });
        enc.push({ text, add, ids: Array.from(e.getIds()) });
      }
    if (args.corrupt) {  // one deliberately wrong expectation
      const victim = enc[Math.floor(enc.length / 2)];
      victim.ids = victim.ids.length ? [victim.ids[0] + 1, ...victim.ids.slice(1)] : [0];
    }
    const got = ram(dir, [], enc.map((e) => ({ text: e.text, add_special_tokens: e.add })));
    enc.forEach((e, i) => {
      ++checked;
      if (!same(e.ids, got[i].ids))
        report(family, `encode add_special_tokens=${e.add}`, Math.floor(i / 2), e.text, e.ids, got[i].ids, tok);
    });
    // decode
    const dec = [];
    enc.forEach((e, i) => {
      const lists = [e.ids, e.ids.slice(1, -1), e.ids.filter((_, k) => k % 2 === 0)];
      for (const ids of lists)
        for (const skip of [false, true]) dec.push({ line: Math.floor(i / 2), ids, skip });
    });
    for (const d of dec) d.text = await tok.decode(d.ids, d.skip);
    const gotd = ram(dir, ['--decode'], dec.map((d) => ({ ids: d.ids, skip_special_tokens: d.skip })));
    dec.forEach((d, i) => {
      ++checked;
      if (!same(d.text, gotd[i].text))
        report(family, `decode skip_special_tokens=${d.skip} of ${show(d.ids).slice(0, 200)}`, d.line,
               texts[d.line], d.text, gotd[i].text, tok);
    });
    process.stdout.write(`${family}: ${enc.length} encodes, ${dec.length} decodes compared\n`);
  }
  process.stdout.write(`HF tokenizers ${hfVersion}: ${checked} comparisons over ${texts.length} corpus lines, ` +
                       `${mismatches} mismatches\n`);
  if (args.corrupt) {
    if (mismatches > 0) {
      process.stdout.write('--corrupt: the deliberately wrong expectation was reported as a mismatch (as it must)\n');
      process.exit(0);
    }
    process.stdout.write('--corrupt: a wrong expectation went unnoticed: the comparison is broken\n');
    process.exit(1);
  }
  process.exit(mismatches ? 1 : 0);
})().catch((e) => die(e.stack || String(e)));
