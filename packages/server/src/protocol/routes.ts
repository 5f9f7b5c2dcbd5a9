const MAX_ID_LENGTH = 512;
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The stream id of a path under `basePath` (`/v1/stream/<id>`), or `undefined` when the
 * path is not a stream path. Ids may have several segments (`a/b`); empty, `.` and `..`
 * segments, control characters, and ids whose first segment starts with `__` (reserved:
 * `__ds` by the protocol, the rest by this server) are refused.
 */
export function streamIdOf(pathname: string, basePath: string): string | undefined {
  const prefix = basePath.endsWith('/') ? `${basePath.replace(/\/+$/, '')}/` : `${basePath}/`;
  if (!pathname.startsWith(prefix)) return undefined;
  const segments = pathname.slice(prefix.length).split('/');
  const decoded: string[] = [];
  for (const segment of segments) {
    let value: string;
    try {
      value = decodeURIComponent(segment);
    } catch {
      return undefined; // a malformed %-escape names no stream
    }
    if (value === '' || value === '.' || value === '..' || value.includes('/') || CONTROL.test(value)) return undefined;
    decoded.push(value);
  }
  const id = decoded.join('/');
  if (id.length > MAX_ID_LENGTH || id.startsWith('__')) return undefined;
  return id;
}

/** The path of a stream id under `basePath`. */
export function pathOf(id: string, basePath: string): string {
  return `${basePath.replace(/\/+$/, '')}/${id.split('/').map(encodeURIComponent).join('/')}`;
}
