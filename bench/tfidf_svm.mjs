// The classic baseline of issue 4, as a reference for any split of TSV files:
// TF-IDF of word 1-2-grams and of character 2-5-grams inside word boundaries
// (each block L2-normalized, smooth idf, as scikit-learn's TfidfVectorizer),
// then a one-vs-rest linear SVM (squared hinge, C = 1, a bias feature of 1),
// fitted by 50 passes of dual coordinate descent (Hsieh et al. 2008,
// liblinear's default solver).
//
//   node bench/tfidf_svm.mjs [--balanced] TRAIN.tsv [TRAIN2.tsv ...] --eval EVAL.tsv [--eval EVAL2.tsv ...]
// prints each eval file's accuracy. --balanced weighs each text's C by
// n / (classes * its class's count), as scikit-learn's class_weight='balanced'.
import { readFileSync } from 'node:fs';

function readTsv(path) {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    const tab = l.lastIndexOf('\t');
    return { text: l.slice(0, tab), label: l.slice(tab + 1).trim() };
  });
}

const words = (text) => text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? [];  // sklearn's token_pattern

function grams(text) {
  const w = words(text);
  const out = [];
  for (let i = 0; i < w.length; i++) out.push('w ' + w[i]);
  for (let i = 0; i + 1 < w.length; i++) out.push('w ' + w[i] + ' ' + w[i + 1]);
  const chars = [];
  for (const word of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    const padded = ' ' + word + ' ';
    for (let n = 2; n <= 5; n++) for (let i = 0; i + n <= padded.length; i++) chars.push('c ' + padded.slice(i, i + n));
  }
  return [out, chars];
}

// One block's tf-idf rows: Map id -> weight, L2-normalized.
function tfidfBlock(docs, vocab, idf) {
  return docs.map((g) => {
    const tf = new Map();
    for (const t of g) if (vocab.has(t)) tf.set(vocab.get(t), (tf.get(vocab.get(t)) ?? 0) + 1);
    let norm = 0;
    for (const [id, c] of tf) { const v = c * idf[id]; tf.set(id, v); norm += v * v; }
    norm = Math.sqrt(norm) || 1;
    for (const [id, v] of tf) tf.set(id, v / norm);
    return tf;
  });
}

function fitVectorizer(trainGrams) {
  const vocab = new Map(), df = [];
  for (const g of trainGrams) for (const t of new Set(g)) {
    if (!vocab.has(t)) { vocab.set(t, vocab.size); df.push(0); }
    df[vocab.get(t)]++;
  }
  const n = trainGrams.length;
  const idf = df.map((d) => Math.log((1 + n) / (1 + d)) + 1);
  return { vocab, idf };
}

// Sparse rows (indices, values) of the two blocks side by side, plus the bias
// feature, from each text's grams.
function vectorize(g, vecs) {
  const blocks = vecs.map((v, b) => tfidfBlock(g.map((x) => x[b]), v.vocab, v.idf));
  let offset = 0;
  const offsets = vecs.map((v) => { const o = offset; offset += v.vocab.size; return o; });
  const dim = offset + 1;
  const rows = g.map((_, i) => {
    const idx = [], val = [];
    blocks.forEach((blk, b) => { for (const [id, v] of blk[i]) { idx.push(offsets[b] + id); val.push(v); } });
    idx.push(dim - 1); val.push(1);
    return { idx: Int32Array.from(idx), val: Float64Array.from(val) };
  });
  return { rows, dim };
}

function dot(w, r) {
  let s = 0;
  for (let k = 0; k < r.idx.length; k++) s += w[r.idx[k]] * r.val[k];
  return s;
}

// Dual coordinate descent for min 0.5 |w|^2 + sum C_i max(0, 1 - y_i w.x_i)^2.
function fitBinary(rows, y, C, dim, passes = 50) {
  const w = new Float64Array(dim), alpha = new Float64Array(rows.length);
  const diag = C.map((c) => 0.5 / c);
  const qii = rows.map((r, i) => r.val.reduce((s, v) => s + v * v, 0) + diag[i]);
  const order = rows.map((_, i) => i);
  let seed = 1;
  for (let pass = 0; pass < passes; pass++) {
    for (let i = order.length - 1; i > 0; i--) {   // a fixed-seed shuffle
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const j = seed % (i + 1); [order[i], order[j]] = [order[j], order[i]];
    }
    for (const i of order) {
      const r = rows[i];
      const grad = y[i] * dot(w, r) - 1 + diag[i] * alpha[i];
      const next = Math.max(alpha[i] - grad / qii[i], 0);
      const d = (next - alpha[i]) * y[i];
      if (d !== 0) { for (let k = 0; k < r.idx.length; k++) w[r.idx[k]] += d * r.val[k]; alpha[i] = next; }
    }
  }
  return w;
}

const args = process.argv.slice(2);
const trainFiles = [], evalFiles = [];
let balanced = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--eval') evalFiles.push(args[++i]);
  else if (args[i] === '--balanced') balanced = true;
  else trainFiles.push(args[i]);
}
if (!trainFiles.length || !evalFiles.length) {
  console.error('usage: node bench/tfidf_svm.mjs [--balanced] TRAIN.tsv [...] --eval EVAL.tsv [--eval ...]');
  process.exit(2);
}
const train = trainFiles.flatMap(readTsv);
const trainGrams = train.map((e) => grams(e.text));
const vecs = [0, 1].map((b) => fitVectorizer(trainGrams.map((g) => g[b])));
const { rows, dim } = vectorize(trainGrams, vecs);
const labels = [...new Set(train.map((e) => e.label))].sort();
const count = new Map();
for (const e of train) count.set(e.label, (count.get(e.label) ?? 0) + 1);
const C = train.map((e) => (balanced ? train.length / (labels.length * count.get(e.label)) : 1));
const weights = labels.map((c) => fitBinary(rows, train.map((e) => (e.label === c ? 1 : -1)), C, dim));
for (const file of evalFiles) {
  const ev = readTsv(file);
  const { rows: er } = vectorize(ev.map((e) => grams(e.text)), vecs);
  let right = 0;
  er.forEach((r, i) => {
    let best = -Infinity, arg = '';
    weights.forEach((w, c) => {
      const s = dot(w, r);
      if (s > best) { best = s; arg = labels[c]; }
    });
    right += arg === ev[i].label;
  });
  console.log(`${file}\taccuracy ${(100 * right / ev.length).toFixed(2)} % (${right}/${ev.length})`);
}
