#!/usr/bin/env node
// A static file server for the demo (and its tests): 127.0.0.1 only, with the
// COOP/COEP headers that make the page cross-origin isolated (threads), and
// no-cache so the browser revalidates what the service worker has not kept.
//
//   node web-demo/serve.mjs [DIR (build/web-demo)] [--port 8080]
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.txt': 'text/plain; charset=utf-8', '.gguf': 'application/octet-stream',
};

/** Serves dir; resolves with the listening server. */
export function serveDir(dir, { port = 8080, host = '127.0.0.1' } = {}) {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-cache',
    };
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return res.writeHead(400, headers).end();
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return res.writeHead(403, headers).end();
    let st = statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) st = statSync((file = join(file, 'index.html')), { throwIfNoEntry: false });
    if (!st?.isFile() || (req.method !== 'GET' && req.method !== 'HEAD')) return res.writeHead(st ? 405 : 404, headers).end();
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': st.size });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => server.once('error', fail).listen(port, host, () => ok(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--port');
  const port = at >= 0 ? Number(args.splice(at, 2)[1]) : 8080;
  const dir = args[0] ?? 'build/web-demo';
  const server = await serveDir(dir, { port }).catch((e) => {
    console.error(`serve: ${e.code === 'EADDRINUSE' ? `port ${port} is in use (--port N picks another)` : e.message}`);
    process.exit(1);
  });
  console.log(`serving ${dir} on http://127.0.0.1:${server.address().port}/ (Ctrl-C stops)`);
}
