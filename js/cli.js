#!/usr/bin/env node
// slm360 from npm: `npx slm360 generate -m model.gguf -p "..."`, over the same
// API a script uses (the wasm engine in a worker thread).
import { parseArgs } from 'node:util';

import { loadModel, SlmError } from './node.js';

const COMMANDS = {
  generate: {
    help: 'generate -m MODEL (-p TEXT | --prompt-ids "1 2 3") [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]\n' +
      '         [--repeat-penalty R] [--repeat-last-n N] [--seed S] [--stop TEXT]... [-t THREADS] [-c CTX] [--print-ids]',
    options: {
      prompt: { type: 'string', short: 'p' }, 'prompt-ids': { type: 'string' }, 'n-predict': { type: 'string', short: 'n', default: '128' },
      temp: { type: 'string', default: '0.8' }, 'top-k': { type: 'string', default: '40' }, 'top-p': { type: 'string', default: '0.95' },
      'min-p': { type: 'string', default: '0' }, 'repeat-penalty': { type: 'string', default: '1' },
      'repeat-last-n': { type: 'string', default: '64' }, seed: { type: 'string', default: '42' },
      stop: { type: 'string', multiple: true, default: [] }, 'print-ids': { type: 'boolean' },
    },
    run: generate,
  },
  tokenize: { help: 'tokenize -m MODEL [--no-bos] TEXT', options: { 'no-bos': { type: 'boolean' } }, run: tokenize },
  score: {
    help: 'score -m MODEL --context TEXT --choices "A|B|C"',
    options: { context: { type: 'string' }, choices: { type: 'string' } },
    run: score,
  },
  info: { help: 'info -m MODEL', options: {}, run: async (model) => console.log(JSON.stringify(model.info, null, 2)) },
};
const COMMON = {
  model: { type: 'string', short: 'm' }, threads: { type: 'string', short: 't', default: 'auto' },
  ctx: { type: 'string', short: 'c', default: '0' }, help: { type: 'boolean', short: 'h' },
};

const usage = () =>
  `usage: slm360 <command> [options]\n\n${Object.values(COMMANDS).map((c) => `  slm360 ${c.help}`).join('\n')}\n\n` +
  '  common: -t, --threads N|auto   -c, --ctx N (context size, default the model\'s)\n';

class UsageError extends Error {}

function number(values, key, integer = false) {
  const v = Number(values[key]);
  if (values[key] === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new UsageError(`--${key}: '${values[key]}' is not a${integer ? 'n integer' : ' number'}`);
  return v;
}

async function generate(model, { values }, signal) {
  if (!values.prompt === !values['prompt-ids']) throw new UsageError('generate: give exactly one of -p TEXT or --prompt-ids IDS');
  const prompt = values.prompt ?? values['prompt-ids'].trim().split(/[\s,]+/).map(Number);
  const options = {
    maxTokens: number(values, 'n-predict', true), temperature: number(values, 'temp'), topK: number(values, 'top-k', true),
    topP: number(values, 'top-p'), minP: number(values, 'min-p'), repeatPenalty: number(values, 'repeat-penalty'),
    repeatLastN: number(values, 'repeat-last-n', true), seed: number(values, 'seed', true), stop: values.stop, signal,
  };
  const ids = [];
  if (!values['print-ids'] && values.prompt) process.stdout.write(values.prompt);
  let last;
  for await (const t of model.generate(prompt, options)) {
    if (t.id >= 0) ids.push(t.id);
    if (!values['print-ids']) process.stdout.write(t.text);
    last = t;
  }
  process.stdout.write(values['print-ids'] ? `${ids.join(' ')}\n` : '\n');
  const s = last.stats;
  process.stderr.write(`[${s.promptTokens} prompt tokens in ${s.prefillMs.toFixed(1)} ms; ${s.generatedTokens} generated, ` +
    `${s.msPerToken.toFixed(2)} ms/token (${s.tokensPerSecond.toFixed(1)} tok/s); stop: ${s.stopReason}; ` +
    `${model.info.build} build, ${model.info.threads} thread${model.info.threads > 1 ? 's' : ''}]\n`);
}

async function tokenize(model, { values, positionals }) {
  if (positionals.length !== 1) throw new UsageError('tokenize: give the text as one argument');
  console.log((await model.tokenize(positionals[0], { bos: !values['no-bos'] })).join(' '));
}

async function score(model, { values }) {
  if (values.context === undefined || values.choices === undefined) throw new UsageError('score: --context and --choices are required');
  const choices = values.choices.split('|');
  const ll = await model.score(values.context, choices);
  ll.forEach((v, i) => console.log(`${i}\t${v.toFixed(4)}\t"${choices[i]}"`));
  const best = ll.indexOf(Math.max(...ll));
  console.log(`best: ${best} "${choices[best]}"`);
}

async function main(argv) {
  const cmd = COMMANDS[argv[0]];
  if (!cmd) {
    const help = !argv.length || ['-h', '--help', 'help'].includes(argv[0]);
    (help && argv.length ? process.stdout : process.stderr).write((help ? '' : `slm360: unknown command '${argv[0]}'\n\n`) + usage());
    return help && argv.length ? 0 : 1;
  }
  let args;
  try {
    args = parseArgs({ args: argv.slice(1), options: { ...COMMON, ...cmd.options }, allowPositionals: cmd.run === tokenize });
  } catch (e) {
    process.stderr.write(`slm360: ${e.message}\nusage: slm360 ${cmd.help}\n`);
    return 1;
  }
  if (args.values.help) return process.stdout.write(`usage: slm360 ${cmd.help}\n`), 0;
  if (!args.values.model) return process.stderr.write(`slm360: -m MODEL is required\nusage: slm360 ${cmd.help}\n`), 1;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  let model;
  try {
    const threads = args.values.threads === 'auto' ? 'auto' : number(args.values, 'threads', true);
    model = await loadModel(args.values.model, { threads, ctx: number(args.values, 'ctx', true), signal: controller.signal });
    await cmd.run(model, args, controller.signal);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) return process.stderr.write(`slm360: ${e.message}\n`), 1;
    if (e instanceof SlmError && e.code === 'ABORTED') return process.stdout.write('\n'), 130;
    const where = model || e.code === 'IO' ? '' : `${args.values.model}: `;   // IO messages name the file
    if (e instanceof SlmError) return process.stderr.write(`slm360: error: ${where}${e.message} (${e.code})\n`), 2;
    throw e;
  } finally {
    await model?.dispose();
  }
}

process.exitCode = await main(process.argv.slice(2));
