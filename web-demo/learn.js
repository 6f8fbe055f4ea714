// Correcting an answer's intent: the one place where the page teaches the
// assistant. What works now: the request goes into tier 1's cache of
// confirmed requests (kept in localStorage), so it routes to the right
// intent at once and after a reload. When the encoder offers continual
// learning (model.learn(examples) -> {accepted, devAccuracyBefore,
// devAccuracyAfter}), it is called as well and its guard's verdict returned.
import { saveCache } from './store.js';

export async function teach(assistant, text, intent) {
  saveCache(await assistant.confirm(text, intent));
  const learn = assistant.nano?.learn;
  if (typeof learn !== 'function') return { cached: true, learned: null };
  return { cached: true, learned: await learn.call(assistant.nano, [{ text, label: intent }]) };
}
