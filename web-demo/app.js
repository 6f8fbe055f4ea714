// The demo page: the 4-tier assistant (lib/js, the slm360 package) with a
// chat, a document pane and settings. No framework: the DOM and a few
// functions. The page's state is in data-* attributes too, for the tests:
// body[data-state] loading | ready | error, body[data-offline] ready (the
// page and its models would load without the network), and each answer's
// li[data-tier][data-intent][data-intent-tier][data-done].
import { loadAssistant } from './lib/js/index.js';
import { teach } from './learn.js';
import {
  cachedModel, forgetLearnedState, keepOwnModel, modelsCached, ownModel, ownModels, saveCache, savedCache,
  savedLearnedState, savedSettings, saveSettings,
} from './store.js';

const $ = (id) => document.getElementById(id);
const DEFAULTS = { decoder: '', temperature: 0.8, topK: 40, topP: 0.9, maxTokens: 96, forceTier: 0, maxTier: 4, embed: false };
const TIER_NAMES = ['', 'patterns', 'nano', 'retrieval', 'decoder'];
const OWN = 'own:';   // decoder choices from disk: own:<file name>

let assistant = null, manifest = null, decoderName = '';
let decoderEntry = null;   // the manifest's decoder in use, if it is one
const settings = savedSettings(DEFAULTS);

const mb = (bytes) => `${(bytes / 1e6).toFixed(bytes < 1e6 ? 2 : 1)} MB`;

function progress(label, fraction) {
  $('progress-label').textContent = label;
  $('progress').value = fraction;
}

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

// ---- start ------------------------------------------------------------------------

async function start() {
  registerServiceWorker();
  manifest = await (await fetch('models/manifest.json')).json();
  const patterns = await (await fetch(manifest.patterns)).text();
  const cached = await modelsCached([manifest.nano]);
  progress(cached ? 'Loading the models from this device…' : 'Downloading the models (once: they stay on this device)…', 0);
  const nano = (await cachedModel(manifest.nano, (l, t) => progress(`Downloading ${manifest.nano.name}: ${mb(l)} of ${mb(t)}`, l / t))).blob;
  const { source, name, entry } = await decoderSource(settings.decoder);
  decoderEntry = entry ?? null;
  assistant = await loadAssistant({
    patterns, nano, decoder: source, cache: savedCache(), nanoThreshold: manifest.nano.threshold,
    onProgress: ({ model, loaded, total, phase }) => progress(`Loading the ${model} into the engine (${phase})`, total ? loaded / total : 0),
  });
  decoderName = assistant.decoder ? name : '';
  if (assistant.cacheError) notice(`Your saved corrections could not be read and were left out: ${assistant.cacheError}`);
  await restoreLearned();
  showModels();
  await fillDecoderChoices();
  document.body.dataset.state = 'ready';
  performance.mark('slm360-ready');
  window.slm360 = { assistant };   // for the console (and bench/demo_bench.mjs)
  for (const id of ['ask-input', 'send']) $(id).disabled = false;
  say('assistant', manifest.decoders.length || assistant.decoder ? 'Hello! Paste or open a document, then ask me about it.'
    : 'Hello! Paste or open a document, then ask me about it. There is no decoder (tier 4): tiers 1 to 3 answer. ' +
      'To add one, open a GGUF model in Settings.');
  markOffline();
}

// What the encoder learnt on earlier visits; a state that does not load (a
// damaged file) is dropped, with a word.
async function restoreLearned() {
  const state = await savedLearnedState(manifest.nano.sha256);
  if (!state) return;
  try {
    await assistant.nano.loadLearnedState(state, {
      onProgress: ({ fraction }) => progress('Restoring what the encoder learnt…', fraction),
    });
    document.body.dataset.learned = 'restored';
  } catch (e) {
    await forgetLearnedState(manifest.nano.sha256);
    notice(`What the encoder learnt could not be restored and was dropped: ${e.message}`);
  }
}

// The decoder a setting names: one of the manifest's (downloaded once), one
// kept from disk, or none.
async function decoderSource(choice) {
  if (choice === 'none') return { source: null, name: '' };
  if (choice.startsWith(OWN)) {
    const file = await ownModel(choice.slice(OWN.length)).catch(() => null);
    if (file) return { source: file, name: file.name };
  }
  const entry = manifest.decoders.find((d) => d.file === choice) ?? manifest.decoders[0];
  if (!entry) return { source: null, name: '' };
  const { blob } = await cachedModel(entry, (l, t) => progress(`Downloading ${entry.name}: ${mb(l)} of ${mb(t)}`, l / t));
  return { source: blob, name: entry.name, entry };
}

function showModels() {
  const n = assistant.nano.info, d = assistant.decoder?.info;
  $('models').innerHTML = '';
  const item = (text, title) => {
    const s = document.createElement('span');
    s.textContent = text;
    s.title = title;
    $('models').append(s);
  };
  item(`Tier 2: ${manifest.nano.name}, ${mb(n.fileBytes)}, ${n.nClasses} intents`, manifest.nano.about);
  const about = manifest.decoders.find((e) => e.name === decoderName)?.about ?? 'A model you opened from disk.';
  if (d) item(`Tier 4: ${decoderName}, ${mb(d.fileBytes)}, ${(d.nParams / 1e6).toFixed(2)} M parameters, context ${d.ctx}`, about);
  else item('Tier 4: no decoder', 'Open a GGUF model in Settings to add one.');
  if (d && manifest.decoders.some((e) => e.name === decoderName)) notice(`${decoderName}: ${about}`);
}

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    const { version } = await (await fetch('version.json', { cache: 'no-cache' })).json();
    await navigator.serviceWorker.register(`sw.js?v=${version}`);
  } catch (e) {
    console.warn('no offline mode:', e.message);
  }
}

// The page works offline once the service worker is active and the models in use are kept.
async function markOffline() {
  if (!('serviceWorker' in navigator)) return;
  await navigator.serviceWorker.ready;
  if (await modelsCached([manifest.nano, ...(decoderEntry ? [decoderEntry] : [])])) document.body.dataset.offline = 'ready';
}

// ---- chat -----------------------------------------------------------------------------

function say(who, text) {
  const li = document.createElement('li');
  li.className = `msg ${who}`;
  const body = document.createElement('div');
  body.className = 'text';
  body.textContent = text;
  li.append(body);
  $('messages').append(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

function askOptions() {
  return {
    forceTier: settings.forceTier, maxTier: settings.maxTier, temperature: settings.temperature, topK: settings.topK,
    topP: settings.topP, maxTokens: settings.maxTokens, seed: Math.floor(Math.random() * 2 ** 31),
  };
}

// Sends a request (intent: from a button) and shows the answer as it comes.
async function ask(text, intent) {
  say('user', text);
  const li = say('assistant', '…');
  li.dataset.request = text;
  const body = li.querySelector('.text');
  const t0 = performance.now();
  try {
    const answer = await assistant.ask(text, { ...askOptions(), intent });
    li.dataset.tier = answer.tier;
    li.dataset.intent = answer.intent;
    li.dataset.intentTier = answer.intentTier;
    const badge = addBadge(li, answer, performance.now() - t0);
    if (answer.tokens) {
      body.textContent = '';
      let first = 0;
      for await (const t of answer.tokens) {
        first ||= performance.now() - t0;
        body.textContent += t.text;
        badge.speed.textContent = `first token ${first.toFixed(0)} ms · ${t.stats.tokensPerSecond.toFixed(0)} tokens/s`;
      }
      if (!body.textContent.trim()) body.textContent = '(the decoder wrote nothing)';
    } else {
      body.textContent = answer.text;
    }
  } catch (e) {
    li.classList.add('error');
    body.textContent = `${e.code ?? 'ERROR'}: ${e.message}`;
  }
  li.dataset.done = 'true';
}

// The answer's badge: tier, intent, confidence, time; a guess says so; a
// menu corrects the intent.
function addBadge(li, a, ms) {
  const badge = document.createElement('div');
  badge.className = 'badge';
  const part = (text, cls) => {
    const s = document.createElement('span');
    s.textContent = text;
    if (cls) s.className = cls;
    badge.append(s);
    return s;
  };
  part(`tier ${a.tier}`, `tier tier-${a.tier}`).title = TIER_NAMES[a.tier];
  part(`${TIER_NAMES[a.tier]} · ${a.intent || 'no intent'} · ${(100 * a.confidence).toFixed(0)}% · ${a.ms.toFixed(2)} ms`);
  if (a.guessing) part('guessing', 'guess').title = 'No tier was confident: this is a best guess.';
  if (a.tier === 4) part(`(${decoderName}: generated, not checked against the document)`);
  const speed = part('');
  if (a.intentTier !== 0) badge.append(correction(li));
  li.append(badge);
  badge.speed = speed;
  return badge;
}

function correction(li) {
  const select = document.createElement('select');
  select.setAttribute('aria-label', 'Correct the intent');
  select.className = 'correct';
  select.append(new Option('wrong intent?', ''));
  for (const intent of assistant.intents) select.append(new Option(intent, intent));
  select.onchange = async () => {
    const intent = select.value, text = li.dataset.request;
    if (!intent) return;
    select.disabled = true;
    const note = document.createElement('div');
    note.className = 'taught';
    li.append(note);
    try {
      const { learned: r } = await teach(assistant, manifest.nano.sha256, text, intent);
      const heldOut = `held-out accuracy ${pct(r.devAccuracyBefore)} → ${pct(r.devAccuracyAfter)}`;
      note.textContent = r.accepted
        ? `Learned: “${text}” is ${intent}. The encoder learnt it too (${heldOut}).`
        : `Remembered: “${text}” is ${intent} (tier 1). The encoder did not learn it: its guard refused the update (${r.reason}).`;
      li.dataset.taught = intent;
      li.dataset.learned = r.accepted ? 'accepted' : 'refused';
    } catch (e) {
      note.textContent = `Could not remember it: ${e.message}`;
    }
    await ask(text);
  };
  return select;
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;

// ---- the document -------------------------------------------------------------------

let docTimer = 0, docVersion = 0;

async function openDocument(text) {
  const version = ++docVersion;
  $('doc-status').textContent = text.trim() ? 'Reading…' : 'No document.';
  try {
    // words alone by default: embedding every sentence costs ~30 ms each here (docs/BENCHMARKS.md)
    const { sentences, ms } = await assistant.setDocument(text.trim() ? text : '', { embedWeight: settings.embed ? undefined : 0 });
    if (version !== docVersion) return;
    $('doc-status').textContent = sentences ? `${sentences} sentences, ${text.split(/\s+/).filter(Boolean).length} words, indexed in ${ms.toFixed(0)} ms.` : 'No document.';
    document.body.dataset.doc = sentences ? 'open' : '';
    for (const id of ['summarize', 'suggest', 'ask-doc']) $(id).disabled = !sentences;
  } catch (e) {
    if (version === docVersion) $('doc-status').textContent = `Not opened: ${e.message}`;
  }
}

function documentChanged() {
  clearTimeout(docTimer);
  docTimer = setTimeout(() => openDocument($('doc').value), 300);
}

// ---- settings -----------------------------------------------------------------------

async function fillDecoderChoices() {
  const select = $('decoder');
  select.innerHTML = '';
  for (const d of manifest.decoders) select.append(new Option(`${d.name} (${mb(d.bytes)})`, d.file));
  for (const m of await ownModels()) select.append(new Option(`${m.name} (${mb(m.bytes)}, from disk)`, OWN + m.name));
  select.append(new Option('none: tiers 1 to 3', 'none'));
  const current = settings.decoder || manifest.decoders[0]?.file || 'none';
  select.value = [...select.options].some((o) => o.value === current) ? current : 'none';
}

// Loads a decoder into the assistant with a progress bar; the old one stays on failure.
async function switchDecoder(source, name) {
  document.body.dataset.state = 'loading';
  try {
    await assistant.setDecoder(source, {
      onProgress: ({ loaded, total, phase }) => progress(`Loading ${name} (${phase}): ${mb(loaded)}${total ? ` of ${mb(total)}` : ''}`, total ? loaded / total : 0),
    });
    decoderName = source ? name : '';
    return true;
  } catch (e) {
    say('assistant', `Could not load ${name}: ${e.message}`).classList.add('error');
    return false;
  } finally {
    document.body.dataset.state = 'ready';
    showModels();
  }
}

function bindSettings() {
  const fields = { temp: 'temperature', topk: 'topK', topp: 'topP', maxtok: 'maxTokens', force: 'forceTier', maxtier: 'maxTier' };
  for (const [id, key] of Object.entries(fields)) {
    const el = $(id);
    el.value = settings[key];
    const shown = $(`${id}-out`);
    if (shown) shown.textContent = settings[key];
    el.oninput = () => {
      settings[key] = Number(el.value);
      if (shown) shown.textContent = el.value;
      saveSettings(settings);
    };
  }
  $('embed').checked = settings.embed;
  $('embed').onchange = () => {
    settings.embed = $('embed').checked;
    saveSettings(settings);
    if ($('doc').value.trim()) openDocument($('doc').value);
  };
  $('decoder').onchange = async () => {
    const choice = $('decoder').value, { source, name, entry } = await decoderSource(choice);
    if (await switchDecoder(source, name || 'no decoder')) {
      decoderEntry = entry ?? null;
      settings.decoder = choice;
      saveSettings(settings);
    }
  };
  $('own-model').onchange = async () => {
    const file = $('own-model').files[0];
    $('own-model').value = '';
    if (!file || !(await switchDecoder(file, file.name))) return;
    decoderEntry = null;
    await keepOwnModel(file);
    settings.decoder = OWN + file.name;
    saveSettings(settings);
    await fillDecoderChoices();
  };
  $('forget').onclick = async () => {
    for (const line of savedCache().split('\n').filter(Boolean)) saveCache(await assistant.forget(line.split('\t')[1]));
    await assistant.nano.forgetLearned();
    await forgetLearnedState(manifest.nano.sha256);
    say('assistant', 'Your corrections are forgotten, and the encoder is back to what it was trained on.');
  };
}

// ---- events ---------------------------------------------------------------------------

$('ask-form').onsubmit = (e) => {
  e.preventDefault();
  const text = $('ask-input').value.trim();
  if (!text || !assistant) return;
  $('ask-input').value = '';
  ask(text);
};
$('doc').oninput = documentChanged;
$('doc-file').onchange = async () => {
  const file = $('doc-file').files[0];
  if (!file) return;
  $('doc').value = await file.text();
  openDocument($('doc').value);
};
$('doc-sample').onclick = async () => {
  $('doc').value = await (await fetch('sample.txt')).text();
  openDocument($('doc').value);
};
$('summarize').onclick = () => ask('Summarize the document', 'summarize');
$('suggest').onclick = () => ask('Suggest questions about the document', 'suggest_questions');
$('ask-doc').onclick = () => {
  const q = $('ask-input').value.trim();
  if (!q) return $('ask-input').focus();
  $('ask-input').value = '';
  ask(q, 'ask_document');
};
bindSettings();

start().catch((e) => {
  document.body.dataset.state = 'error';
  notice(`The assistant could not start: ${e.message}`);
  console.error(e);
});
