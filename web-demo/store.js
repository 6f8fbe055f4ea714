// What the page keeps between visits: the models it downloaded (Cache API),
// the models a person opened from disk and what the encoder learnt (the
// origin private file system), the confirmed requests and the settings
// (localStorage).
const MODELS = 'slm360-models';
const CACHE_KEY = 'slm360.cache';
const SETTINGS_KEY = 'slm360.settings';

/**
 * A model from the manifest as a Blob: from the Cache API, else downloaded
 * (onProgress(loaded, total)), checked against its sha256 and kept.
 */
export async function cachedModel(entry, onProgress) {
  const cache = await caches.open(MODELS);
  const hit = await cache.match(entry.url);
  if (hit) return { blob: await hit.blob(), cached: true };
  const res = await fetch(entry.url);
  if (!res.ok) throw new Error(`${entry.url}: HTTP ${res.status}`);
  const reader = res.body.getReader(), chunks = [];
  for (let loaded = 0; ;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    onProgress((loaded += value.length), entry.bytes);
  }
  const blob = new Blob(chunks);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  if (hex !== entry.sha256) throw new Error(`${entry.file}: the download is damaged (sha256 ${hex.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…)`);
  await cache.put(entry.url, new Response(blob, { headers: { 'Content-Type': 'application/octet-stream' } }));
  // an older version of the same file is no longer needed
  for (const req of await cache.keys()) {
    const u = new URL(req.url);
    if (u.pathname === new URL(entry.url, location.href).pathname && u.href !== new URL(entry.url, location.href).href) await cache.delete(req);
  }
  return { blob, cached: false };
}

/** Whether every model of the manifest is in the Cache API. */
export async function modelsCached(entries) {
  const cache = await caches.open(MODELS);
  for (const e of entries) if (!(await cache.match(e.url))) return false;
  return true;
}

// ---- models from disk ----------------------------------------------------------

async function ownDir() {
  return (await navigator.storage.getDirectory()).getDirectoryHandle('models', { create: true });
}

/** The models opened from disk before: [{name, bytes}]. */
export async function ownModels() {
  if (!navigator.storage?.getDirectory) return [];
  const list = [];
  for await (const handle of (await ownDir()).values())
    if (handle.kind === 'file') list.push({ name: handle.name, bytes: (await handle.getFile()).size });
  return list.sort((a, b) => a.name.localeCompare(b.name));
}

export async function ownModel(name) {
  return (await (await ownDir()).getFileHandle(name)).getFile();
}

/** Keeps a model opened from disk (after it loaded: a bad file is never kept). */
export async function keepOwnModel(file) {
  if (!navigator.storage?.getDirectory) return;
  const w = await (await (await ownDir()).getFileHandle(file.name, { create: true })).createWritable();
  await w.write(file);
  await w.close();
}

// ---- what the encoder learnt ------------------------------------------------------

// One file per nano model (its sha256): a state belongs to the model it was learnt on.
async function learnedFile(model, create) {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('learned', { create: true });
  return dir.getFileHandle(`${model}.gguf`, { create });
}

/** The learned state kept for this nano model (bytes), or null. */
export async function savedLearnedState(model) {
  if (!navigator.storage?.getDirectory) return null;
  try {
    return new Uint8Array(await (await (await learnedFile(model, false)).getFile()).arrayBuffer());
  } catch {
    return null;   // none kept
  }
}

export async function saveLearnedState(model, bytes) {
  if (!navigator.storage?.getDirectory) return;
  const w = await (await learnedFile(model, true)).createWritable();   // replaces the file when closed
  await w.write(bytes);
  await w.close();
}

export async function forgetLearnedState(model) {
  if (!navigator.storage?.getDirectory) return;
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('learned', { create: true });
  await dir.removeEntry(`${model}.gguf`).catch(() => {});
}

// ---- small things --------------------------------------------------------------

export const savedCache = () => localStorage.getItem(CACHE_KEY) ?? '';
export const saveCache = (text) => localStorage.setItem(CACHE_KEY, text);

export function savedSettings(defaults) {
  try {
    return { ...defaults, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') };
  } catch {
    return { ...defaults };
  }
}

export const saveSettings = (settings) => localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
