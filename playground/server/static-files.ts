import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Pages load scripts, styles and data from this origin only (agent output can never run as code). */
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * A handler for the files of a built app (GET and HEAD only). `/` serves `index.html`,
 * `/vue` serves `vue.html`; files under `assets/` (content-hashed by Vite) are cached for a
 * year, pages are revalidated. Paths escaping `root` and missing files answer 404.
 * @param root The folder to serve (absolute).
 * @returns `(request) => Promise<Response>`.
 * @example
 * const files = staticFiles('/srv/app');
 * const response = await files(new Request('http://localhost/vue.html'));
 */
export function staticFiles(root: string): (request: Request) => Promise<Response> {
  const base = normalize(root + sep);
  const find = async (path: string): Promise<string | undefined> => {
    for (const candidate of path.endsWith('/') ? [`${path}index.html`] : [path, `${path}.html`]) {
      const file = normalize(join(base, candidate));
      if (!file.startsWith(base)) return undefined;
      const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
        throw error;
      });
      if (info?.isFile()) return file;
    }
    return undefined;
  };
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('method not allowed\n', { status: 405, headers: { allow: 'GET, HEAD' } });
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return new Response('bad path\n', { status: 400 });
    }
    const file = path.includes('\0') ? undefined : await find(path);
    if (file === undefined) return new Response('not found\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    const body = await readFile(file);
    const hashed = file.includes(`${sep}assets${sep}`);
    return new Response(request.method === 'HEAD' ? null : body, {
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': String(body.byteLength),
        'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
        ...(extname(file) === '.html' ? { 'content-security-policy': PAGE_POLICY } : {}),
      },
    });
  };
}
