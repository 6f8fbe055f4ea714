// Side-by-side: `slm bench` and llama.cpp on the same GGUF file, in one run,
// alternating engines each round so both see the same machine noise.
// Prints medians over rounds and the ratio llama.cpp / slm360 (> 1: we are faster).
//
//   node bench/compare.mjs [--model F] [--rounds 5] [--threads 1,2] [-p 128] [-n 128]
// Without --model it makes build/bench/base-q4_0.gguf (slm360-base, Q4_0, random).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
const rounds = +arg("--rounds", 5), P = arg("-p", "128"), N = arg("-n", "128");
const threads = arg("--threads", "1,2").split(",").map(Number);
const slm = join(root, "build/slm");
let model = arg("--model", null);

if (!existsSync(slm)) execFileSync("make", ["-C", root], { stdio: "inherit" });
if (!model) {
  model = join(root, "build/bench/base-q4_0.gguf");
  if (!existsSync(model)) {
    mkdirSync(dirname(model), { recursive: true });
    execFileSync(slm, ["init", "--preset", "slm360-base", "--random", "--seed", "1", "--type", "q4_0", "-o", model], { stdio: "inherit" });
  }
}
const peerDir = join(root, "build/peer");
if (!existsSync(join(peerDir, "node_modules/node-llama-cpp"))) {
  mkdirSync(peerDir, { recursive: true });
  execFileSync("npm", ["init", "-y"], { cwd: peerDir, stdio: "ignore" });
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "node-llama-cpp@3"], { cwd: peerDir, stdio: "inherit" });
}
// ES modules resolve packages from their own folder: run the peer script from there
copyFileSync(join(root, "bench/llama_cpp.mjs"), join(peerDir, "llama_cpp.mjs"));

const median = (a) => { const b = [...a].sort((x, y) => x - y); const k = b.length >> 1; return b.length % 2 ? b[k] : (b[k - 1] + b[k]) / 2; };
const runJson = (cmd, args, opts) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
};

const res = {};   // key engine/threads -> {pre: [], dec: []}
const add = (engine, t, r) => {
  const k = `${engine}/${t}`;
  res[k] ??= { pre: [], dec: [] };
  res[k].pre.push(r.prefill_ms);
  res[k].dec.push(r.decode_ms_per_token);
};
for (let round = 0; round < rounds; round++) {
  for (const t of threads) {
    for (const r of runJson(slm, ["bench", "-m", model, "-p", P, "-n", N, "--threads", String(t), "--reps", "3", "--json"])) add("slm360", t, r);
    const peer = runJson("node", [join(peerDir, "llama_cpp.mjs"), model, P, N, String(t), "3"]);
    for (const r of peer) add("llama.cpp", t, r);
  }
  process.stderr.write(`round ${round + 1}/${rounds} done\n`);
}
console.log(`model ${model}, prefill ${P} tokens, decode ${N} tokens, ${rounds} rounds (medians)`);
console.log("threads | slm360 prefill ms | llama.cpp prefill ms | ratio | slm360 decode ms/tok | llama.cpp decode ms/tok | ratio");
for (const t of threads) {
  const a = res[`slm360/${t}`], b = res[`llama.cpp/${t}`];
  const [ap, bp, ad, bd] = [median(a.pre), median(b.pre), median(a.dec), median(b.dec)];
  console.log(`${t} | ${ap.toFixed(1)} | ${bp.toFixed(1)} | ${(bp / ap).toFixed(2)} | ${ad.toFixed(2)} | ${bd.toFixed(2)} | ${(bd / ad).toFixed(2)}`);
}
