// Reading a whole stream page after page, shared by the bench's main process and its writer child.

/**
 * Read `url` from offset -1, following Stream-Next-Offset until Stream-Up-To-Date. `get(pageUrl)`
 * resolves with `{ status, headers, bytes, body }` (`body` the text when `parse`, which also
 * counts the events). Resolves with `{ responses, bytes, events, encodings }`.
 */
export async function readPages(get, url, parse) {
  let offset = '-1';
  let responses = 0;
  let bytes = 0;
  let events = 0;
  const encodings = new Set();
  for (let round = 0; round < 100_000; round++) {
    const res = await get(`${url}?offset=${encodeURIComponent(offset)}`);
    if (res.status !== 200) throw new Error(`GET ${url} at ${offset}: ${res.status}`);
    responses++;
    bytes += res.bytes;
    if (res.headers['content-encoding'] !== undefined) encodings.add(res.headers['content-encoding']);
    if (parse) events += JSON.parse(res.body).length;
    const next = res.headers['stream-next-offset'];
    if (res.headers['stream-up-to-date'] === 'true') return { responses, bytes, events, encodings: [...encodings] };
    if (next === undefined || next === offset) throw new Error(`GET ${url}: no progress at offset ${offset}`);
    offset = next;
  }
  throw new Error(`GET ${url}: not up to date after 100,000 pages`);
}
