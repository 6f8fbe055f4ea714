// The engine's Web Worker (a module worker) in browsers.
import { serve } from './engine.js';

serve(
  { post: (msg, transfer) => self.postMessage(msg, transfer ?? []), listen: (fn) => { self.onmessage = (e) => fn(e.data); } },
  {
    async compile(url) {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return WebAssembly.compile(await r.arrayBuffer());
    },
  },
);
