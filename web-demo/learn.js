// Correcting an answer's intent: the one place where the page teaches the
// assistant. The request goes into tier 1's cache of confirmed requests (kept
// in localStorage), so it routes to the right intent at once and after a
// reload; and the encoder learns it (model.learn), which also helps requests
// like it. The encoder's guard may refuse the update (it would hurt held-out
// requests): then only the cache remembers. An accepted update's state is
// kept in the origin private file system and restored at the next visit.
import { saveCache, saveLearnedState } from './store.js';

/** @returns {Promise<{learned: import('./lib/js/index.js').LearnResult}>} */
export async function teach(assistant, model, text, intent) {
  saveCache(await assistant.confirm(text, intent));
  const learned = await assistant.nano.learn([{ text, label: intent }]);
  if (learned.accepted) await saveLearnedState(model, await assistant.nano.learnedState());
  return { learned };
}
