/**
 * The Lua scripts of the Redis store: one per `SessionStore` method, each run atomically by
 * Redis (`EVALSHA`). Every script touches the keys of one session only (they share the hash
 * tag `{sessionId}`), so the store runs on Redis Cluster.
 *
 * Keys: KEYS[1] metadata hash, KEYS[2] the log (a Redis stream), KEYS[3] producer state hash,
 * KEYS[4] producers by last append (sorted set), KEYS[5] the tombstone of a deleted stream (a
 * string with a TTL: `head` answers `deleted` while it lives; a new stream at the id removes it),
 * KEYS[6] the newest snapshot (a hash: pos, off, d; deleted with the stream, never inherited by forks).
 * ARGV[1] the change channel, ARGV[2] the session id, ARGV[3] now (ms), ARGV[4] maxEvents,
 * ARGV[5] maxAgeMs (0: none); script-specific arguments follow.
 *
 * A log entry's stream id is `<end position>-0`, so `XRANGE (from+1)-0` starts at the entry
 * holding position `from`. Its fields are, in order: p (start position), t (appended at),
 * b (end of the append it came with), d (data). Scripts reply with one JSON header
 * (positions, never formatted offsets: the caller formats them) followed by raw entry data.
 * Offsets come in as (instance, position) pairs, resolved against the stream's instance and the
 * instances its fork lineage inherited from (metadata `anc`: JSON `[{instance, upTo}]`).
 * Metadata `bytes` is the store's accounting of the retained entries (data plus
 * ENTRY_OVERHEAD_BYTES each), for `AppendOptions.limit`.
 */
import { ENTRY_OVERHEAD_BYTES, ZERO_INSTANCE } from '@durable-session/server';

const PRELUDE = `
local M, L, R, Z, T, S = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local OVERHEAD, ZERO = ${ENTRY_OVERHEAD_BYTES}, '${ZERO_INSTANCE}'
local CHANNEL, SID, NOW = ARGV[1], ARGV[2], tonumber(ARGV[3])
local MAX_EVENTS, MAX_AGE = tonumber(ARGV[4]), tonumber(ARGV[5])
local released = false
local CURRENT = nil -- the stream the script works on, once looked up (its instance names offsets)

local function meta()
  local flat = redis.call('HGETALL', M)
  if #flat == 0 then return nil end
  local m = {}
  for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
  return m
end

local function expired(m)
  if m.exp and NOW >= tonumber(m.exp) then return true end
  return m.ttl ~= nil and (NOW - tonumber(m.access)) >= tonumber(m.ttl) * 1000
end

-- The position of offset (inst, pos) in stream m, or nil when it is another instance's offset.
local function positionIn(m, inst, pos)
  if inst == ZERO or inst == m.inst then return pos end
  if m.anc then
    for _, a in ipairs(cjson.decode(m.anc)) do
      if a.instance == inst then
        if pos <= a.upTo then return pos end
        return nil
      end
    end
  end
  return nil
end

local function announce(what)
  redis.call('PUBLISH', CHANNEL, SID .. '\\n' .. what)
end

local function remove(m)
  announce('deleted')
  redis.call('DEL', L, R, Z, S)
  if tonumber(m.forks or '0') > 0 then
    redis.call('HSET', M, 'soft', '1')
    redis.call('PERSIST', M)
    return 'soft-deleted'
  end
  redis.call('DEL', M)
  if m.fsrc then released = m.fsrc end
  return 'deleted'
end

local function lookup()
  local m = meta()
  if not m then return 'not-found' end
  if m.soft == '1' then return 'gone' end
  if expired(m) then
    if remove(m) == 'deleted' then return 'not-found' end
    return 'gone'
  end
  CURRENT = m
  return m
end

local function info(m)
  return {
    instance = m.inst, contentType = m.ct, tail = tonumber(m.tail), start = tonumber(m.start),
    closed = m.closed == '1', ttl = m.ttl and tonumber(m.ttl) or false, exp = m.exp and tonumber(m.exp) or false,
    createdAt = tonumber(m.created), fsrc = m.fsrc or false, foff = m.foff or false, fsub = tonumber(m.fsub or '0'),
    anc = m.anc or '[]'
  }
end

local function reply(t, extra)
  t.released = released
  if type(CURRENT) == 'table' and t.instance == nil then t.instance = CURRENT.inst end
  local out = { cjson.encode(t) }
  if extra then for i = 1, #extra do out[#out + 1] = extra[i] end end
  return out
end

-- Garbage collection backstop: Redis drops the keys a while after the stream's own expiry.
local function keepAlive(m)
  if tonumber(m.forks or '0') > 0 then
    redis.call('PERSIST', M) redis.call('PERSIST', L) redis.call('PERSIST', R) redis.call('PERSIST', Z) redis.call('PERSIST', S)
    return
  end
  local ms = nil
  if m.ttl then ms = tonumber(m.ttl) * 1000 end
  if m.exp then
    local left = tonumber(m.exp) - NOW
    if ms == nil or left < ms then ms = left end
  end
  if ms == nil then return end
  ms = math.max(ms, 0) + 60000
  redis.call('PEXPIRE', M, ms) redis.call('PEXPIRE', L, ms) redis.call('PEXPIRE', R, ms) redis.call('PEXPIRE', Z, ms) redis.call('PEXPIRE', S, ms)
end

local function resetStart(m)
  local first = redis.call('XRANGE', L, '-', '+', 'COUNT', 1)[1]
  m.start = first and first[2][2] or m.tail
  redis.call('HSET', M, 'start', m.start)
end

-- Retention: at most MAX_EVENTS entries, none older than MAX_AGE (oldest first, keeping 'bytes' right),
-- and never one the newest snapshot does not cover (a reader sent 410 rebuilds from it).
local function trim(m)
  if MAX_EVENTS <= 0 and MAX_AGE <= 0 then return end
  local len, oldest = redis.call('XLEN', L), NOW - MAX_AGE
  local covered = tonumber(redis.call('HGET', S, 'pos') or '-1')
  local dropped, freed, from, keep = 0, 0, '-', nil
  while keep == nil do
    local batch = redis.call('XRANGE', L, from, '+', 'COUNT', 64)
    for i = 1, #batch do
      local e = batch[i]
      local tooMany = MAX_EVENTS > 0 and len - dropped > MAX_EVENTS
      local tooOld = MAX_AGE > 0 and tonumber(e[2][4]) < oldest
      local uncovered = covered >= 0 and tonumber(e[2][2]) >= covered
      if uncovered or not (tooMany or tooOld) then keep = e[1] break end
      dropped = dropped + 1
      freed = freed + #e[2][8] + OVERHEAD
    end
    if keep == nil and #batch < 64 then break end
    if keep == nil then from = (string.gsub(batch[#batch][1], '-0$', '-1')) end
  end
  if dropped == 0 then return end
  if keep then redis.call('XTRIM', L, 'MINID', keep) else redis.call('XTRIM', L, 'MAXLEN', 0) end
  m.bytes = tonumber(m.bytes or '0') - freed
  redis.call('HSET', M, 'bytes', m.bytes)
  resetStart(m)
end

-- Append entries (ARGV from index 'first' on) at the tail; returns the new tail.
local function write(m, first, count)
  local pos = tonumber(m.tail)
  local json = m.mode == 'json'
  local batchEnd, added = pos, 0
  for i = first, first + count - 1 do batchEnd = batchEnd + (json and 1 or #ARGV[i]) end
  for i = first, first + count - 1 do
    local size = json and 1 or #ARGV[i]
    if size > 0 then
      redis.call('XADD', L, (pos + size) .. '-0', 'p', pos, 't', NOW, 'b', batchEnd, 'd', ARGV[i])
      pos = pos + size
      added = added + #ARGV[i] + OVERHEAD
    end
  end
  m.tail = pos
  m.bytes = tonumber(m.bytes or '0') + added
  redis.call('HSET', M, 'tail', pos, 'bytes', m.bytes)
  return pos
end
`;

/** HEAD: ARGV[6] touch ('1'). Reply: { status, stream }. */
export const HEAD = `${PRELUDE}
local m = lookup()
if m == 'not-found' and redis.call('EXISTS', T) == 1 then return reply({ status = 'deleted' }) end
if type(m) == 'string' then return reply({ status = m }) end
if ARGV[6] == '1' then redis.call('HSET', M, 'access', NOW) keepAlive(m) end
return reply({ status = 'ok', stream = info(m) })
`;

/**
 * CREATE: ARGV[6] instance, ARGV[7] content type, ARGV[8] its media type, ARGV[9] mode,
 * ARGV[10] requested content type ('' none), ARGV[11] requested media type, ARGV[12] ttl ('' none),
 * ARGV[13] expiry ms ('' none), ARGV[14] effective ttl, ARGV[15] effective expiry, ARGV[16] closed,
 * ARGV[17] fork source ('' none), ARGV[18] fork offset ('' none), ARGV[19] fork sub-offset,
 * ARGV[20] tail of the inherited data, ARGV[21] the fork lineage (JSON `[{instance, upTo}]`),
 * ARGV[22] number of own entries, then the own entries, then the inherited ones as (start,
 * appended-at, batch end, data) quadruples.
 */
export const CREATE = `${PRELUDE}
local m = lookup()
if m == 'gone' then return reply({ status = 'conflict', reason = 'the stream was deleted but forks still reference it' }) end
if type(m) == 'table' then
  local sameType
  if ARGV[10] == '' then sameType = ARGV[17] ~= '' or m.mt == 'application/octet-stream'
  else sameType = ARGV[11] == m.mt end
  local sameFork = (m.fsrc or '') == ARGV[17] and (m.foff or '') == ARGV[18] and (m.fsub or '0') == ARGV[19]
  local same = sameType and sameFork and (m.rttl or '') == ARGV[12] and (m.rexp or '') == ARGV[13]
    and m.closed == ARGV[16]
  if same then return reply({ status = 'exists', stream = info(m) }) end
  return reply({ status = 'conflict', reason = 'a stream with a different configuration exists at this path' })
end
redis.call('DEL', L, R, Z, T, S)
local inheritedTail = tonumber(ARGV[20])
local own = tonumber(ARGV[22])
local fields = { 'inst', ARGV[6], 'ct', ARGV[7], 'mt', ARGV[8], 'mode', ARGV[9], 'created', NOW, 'access', NOW,
  'closed', ARGV[16], 'tail', inheritedTail, 'start', inheritedTail, 'forks', 0, 'fsub', ARGV[19], 'anc', ARGV[21], 'bytes', 0 }
local optional = { rct = ARGV[10], rttl = ARGV[12], rexp = ARGV[13], ttl = ARGV[14], exp = ARGV[15], fsrc = ARGV[17], foff = ARGV[18] }
for k, v in pairs(optional) do if v ~= '' then fields[#fields + 1] = k fields[#fields + 1] = v end end
redis.call('HSET', M, unpack(fields))
m = meta()
local firstInherited = 23 + own
local i, inheritedBytes = firstInherited, 0
while i + 3 <= #ARGV do
  local start, size = tonumber(ARGV[i]), (m.mode == 'json' and 1 or #ARGV[i + 3])
  redis.call('XADD', L, (start + size) .. '-0', 'p', start, 't', ARGV[i + 1], 'b', ARGV[i + 2], 'd', ARGV[i + 3])
  inheritedBytes = inheritedBytes + #ARGV[i + 3] + OVERHEAD
  i = i + 4
end
if i > firstInherited then resetStart(m) m.bytes = inheritedBytes redis.call('HSET', M, 'bytes', inheritedBytes) end
write(m, 23, own)
trim(m)
keepAlive(m)
return reply({ status = 'created', stream = info(m) })
`;

/**
 * FORK_SOURCE (on the source's keys): ARGV[6] fork position ('' the tail), ARGV[7] sub-offset,
 * ARGV[8] media type the fork asks for ('' none), ARGV[9] the fork offset's instance. Counts the
 * fork and returns what it inherits, with the source's instance and lineage.
 */
export const FORK_SOURCE = `${PRELUDE}
local m = lookup()
if m == 'not-found' then return reply({ status = 'source-not-found' }) end
if m == 'gone' then return reply({ status = 'conflict', reason = 'the source stream was deleted' }) end
if ARGV[8] ~= '' and ARGV[8] ~= m.mt then
  return reply({ status = 'conflict', reason = "the source stream's content type is " .. m.ct })
end
local tail, start = tonumber(m.tail), tonumber(m.start)
local at = tail
if ARGV[6] ~= '' then at = positionIn(m, ARGV[9], tonumber(ARGV[6])) end
if at == nil then return reply({ status = 'invalid-fork', reason = 'the fork offset is not an offset of the source stream' }) end
local sub = tonumber(ARGV[7])
if at > tail then return reply({ status = 'invalid-fork', reason = 'the fork offset is beyond the source stream' }) end
if at < start then return reply({ status = 'invalid-fork', reason = "the fork offset is before the source stream's retained data" }) end
local finish = at
if sub > 0 then
  local entry = redis.call('XRANGE', L, (at + 1) .. '-0', '+', 'COUNT', 1)[1]
  if not entry then return reply({ status = 'invalid-fork', reason = 'the sub-offset is past the end of the source stream' }) end
  local p = tonumber(entry[2][2])
  local boundary = m.mode == 'json' and tonumber(entry[2][6]) or p + #entry[2][8]
  if at + sub > boundary then return reply({ status = 'invalid-fork', reason = 'the sub-offset is past the next data boundary' }) end
  finish = at + sub
end
local out = {}
if finish > 0 then
  for _, entry in ipairs(redis.call('XRANGE', L, '-', '+')) do
    local p = tonumber(entry[2][2])
    if p >= finish then break end
    local d = entry[2][8]
    local size = m.mode == 'json' and 1 or #d
    local cut = math.min(size, finish - p)
    if cut < size then d = string.sub(d, 1, cut) end
    out[#out + 1] = tostring(p) out[#out + 1] = entry[2][4]
    out[#out + 1] = tostring(math.min(tonumber(entry[2][6]), finish)) out[#out + 1] = d
  end
end
redis.call('HINCRBY', M, 'forks', 1)
redis.call('PERSIST', M) redis.call('PERSIST', L) redis.call('PERSIST', R) redis.call('PERSIST', Z) redis.call('PERSIST', S)
return reply({ status = 'ok', contentType = m.ct, ttl = m.ttl and tonumber(m.ttl) or false,
  exp = m.exp and tonumber(m.exp) or false, tail = finish, source = m.inst, anc = m.anc or '[]' }, out)
`;

/** RELEASE (on a fork source's keys): one fork of it went away. */
export const RELEASE = `${PRELUDE}
if redis.call('EXISTS', M) == 0 then return reply({ status = 'ok' }) end
local forks = redis.call('HINCRBY', M, 'forks', -1)
local m = meta()
if forks <= 0 and m.soft == '1' then
  redis.call('DEL', M)
  if m.fsrc then released = m.fsrc end
elseif forks <= 0 then
  keepAlive(m)
end
return reply({ status = 'ok' })
`;

/** DELETE: ARGV[6] how long the tombstone lasts (ms). */
export const DELETE = `${PRELUDE}
local m = lookup()
if type(m) == 'string' then return reply({ status = m }) end
redis.call('SET', T, '1', 'PX', ARGV[6])
return reply({ status = remove(m) })
`;

/**
 * APPEND: ARGV[6] media type given ('' none), ARGV[7] close ('1'), ARGV[8] producer id ('' none),
 * ARGV[9] epoch, ARGV[10] seq, ARGV[11] Stream-Seq given ('1'), ARGV[12] Stream-Seq,
 * ARGV[13] producer TTL ms, ARGV[14] the stream's most entries ('' no limit), ARGV[15] its most
 * bytes, then the entries. The checks run in the memory store's order.
 */
export const APPEND = `${PRELUDE}
local m = lookup()
if type(m) == 'string' then return reply({ status = m }) end
local count = #ARGV - 15
local size = 0
for i = 16, #ARGV do size = size + (m.mode == 'json' and 1 or #ARGV[i]) end
local closeOnly, close = size == 0, ARGV[7] == '1'
local pid, epoch, seq = ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])
local idle = redis.call('ZRANGEBYSCORE', Z, '-inf', NOW - tonumber(ARGV[13]), 'LIMIT', 0, 100)
if #idle > 0 then redis.call('HDEL', R, unpack(idle)) redis.call('ZREM', Z, unpack(idle)) end

local verdict, highest, expected = nil, nil, nil
if pid ~= '' then
  local state = redis.call('HGET', R, pid)
  if not state then
    if seq == 0 then verdict = 'accept' else verdict, expected = 'gap', 0 end
  else
    local sep = string.find(state, ':', 1, true)
    local se, ss = tonumber(string.sub(state, 1, sep - 1)), tonumber(string.sub(state, sep + 1))
    if epoch < se then return reply({ status = 'stale-epoch', epoch = se })
    elseif epoch > se then verdict = seq == 0 and 'accept' or 'invalid-epoch-seq'
    elseif seq <= ss then
      redis.call('HSET', M, 'access', NOW)
      return reply({ status = 'duplicate', tail = tonumber(m.tail), closed = m.closed == '1', epoch = epoch, seq = ss })
    elseif seq == ss + 1 then verdict = 'accept'
    else verdict, expected = 'gap', ss + 1 end
  end
end
if m.closed == '1' then
  if closeOnly and close then
    redis.call('HSET', M, 'access', NOW)
    return reply({ status = 'appended', first = tonumber(m.tail), tail = tonumber(m.tail), closed = true })
  end
  return reply({ status = 'closed', tail = tonumber(m.tail) })
end
if not closeOnly and ARGV[6] ~= '' and ARGV[6] ~= m.mt then return reply({ status = 'content-type-mismatch', contentType = m.ct }) end
if verdict == 'invalid-epoch-seq' then return reply({ status = 'invalid-epoch-seq', epoch = epoch, seq = seq }) end
if verdict == 'gap' then return reply({ status = 'seq-gap', expected = expected, received = seq }) end
if ARGV[11] == '1' and m.sseq and ARGV[12] <= m.sseq then return reply({ status = 'stream-seq-regression', last = m.sseq }) end
if ARGV[14] ~= '' then
  local maxEvents, maxBytes, adding = tonumber(ARGV[14]), tonumber(ARGV[15]), 0
  if redis.call('XLEN', L) + count > maxEvents then return reply({ status = 'session-full', limit = 'events', max = maxEvents }) end
  for i = 16, #ARGV do adding = adding + #ARGV[i] + OVERHEAD end
  if tonumber(m.bytes or '0') + adding > maxBytes then return reply({ status = 'session-full', limit = 'bytes', max = maxBytes }) end
end
local first = tonumber(m.tail)
if closeOnly and not close then return reply({ status = 'appended', first = first, tail = first, closed = false }) end
write(m, 16, count)
if verdict == 'accept' then
  redis.call('HSET', R, pid, epoch .. ':' .. seq)
  redis.call('ZADD', Z, NOW, pid)
end
if ARGV[11] == '1' then redis.call('HSET', M, 'sseq', ARGV[12]) end
if close then redis.call('HSET', M, 'closed', '1') m.closed = '1' end
redis.call('HSET', M, 'access', NOW)
trim(m)
keepAlive(m)
announce(m.tail .. '\\n' .. m.closed)
local t = { status = 'appended', first = first, tail = tonumber(m.tail), closed = m.closed == '1' }
if pid ~= '' then t.epoch = epoch t.seq = seq end
return reply(t)
`;

/**
 * READ: ARGV[6] from position ('' the earliest retained), ARGV[7] limit, ARGV[8] max bytes
 * (-1 none), ARGV[9] touch ('1'), ARGV[10] the from offset's instance. Reply: the header, then
 * each entry's data. Another instance's offset is `offset-gone`.
 */
export const READ = `${PRELUDE}
local m = lookup()
if type(m) == 'string' then return reply({ status = m }) end
if ARGV[9] == '1' then redis.call('HSET', M, 'access', NOW) keepAlive(m) end
trim(m)
local start, tail = tonumber(m.start), tonumber(m.tail)
local from = start
if ARGV[6] ~= '' then from = positionIn(m, ARGV[10], tonumber(ARGV[6])) end
if from == nil or from < start then return reply({ status = 'offset-gone', earliest = start }) end
if from > tail then return reply({ status = 'offset-beyond-tail', tail = tail }) end
local limit, maxBytes = tonumber(ARGV[7]), tonumber(ARGV[8])
local positions, data, bytes, nextPos = {}, {}, 0, from
if from < tail then
  for _, entry in ipairs(redis.call('XRANGE', L, (from + 1) .. '-0', '+', 'COUNT', limit)) do
    local p, d = tonumber(entry[2][2]), entry[2][8]
    local skip = nextPos - p
    if skip > 0 then d = string.sub(d, skip + 1) end
    if #data > 0 and maxBytes >= 0 and bytes + #d > maxBytes then break end
    local size = m.mode == 'json' and 1 or #entry[2][8]
    positions[#positions + 1] = { nextPos, p + size }
    data[#data + 1] = d
    bytes = bytes + #d
    nextPos = p + size
  end
end
local upToDate = nextPos == tail
return reply({ status = 'ok', positions = positions, next = nextPos, upToDate = upToDate,
  closed = upToDate and m.closed == '1', stream = info(m) }, data)
`;

/**
 * PUT_SNAPSHOT: ARGV[6] the offset's instance, ARGV[7] its position ('' malformed), ARGV[8] the
 * offset as given, ARGV[9] the snapshot data. Keeps only the newest (`stale` when not newer).
 */
export const PUT_SNAPSHOT = `${PRELUDE}
local m = lookup()
if type(m) == 'string' then return reply({ status = m }) end
if ARGV[7] == '' or (ARGV[6] ~= ZERO and ARGV[6] ~= m.inst) then return reply({ status = 'invalid-offset' }) end
local pos = tonumber(ARGV[7])
if pos > tonumber(m.tail) then return reply({ status = 'invalid-offset' }) end
local held = redis.call('HGET', S, 'pos')
if held and tonumber(held) >= pos then return reply({ status = 'stale' }) end
redis.call('HSET', S, 'pos', pos, 'off', ARGV[8], 'd', ARGV[9])
local left = redis.call('PTTL', M)
if left > 0 then redis.call('PEXPIRE', S, left) end
return reply({ status = 'stored' })
`;

/** GET_SNAPSHOT: the newest snapshot. Reply: { status, offset } and the data. */
export const GET_SNAPSHOT = `${PRELUDE}
local m = lookup()
if type(m) == 'string' then return reply({ status = m }) end
local held = redis.call('HMGET', S, 'off', 'd')
if not held[1] then return reply({ status = 'none' }) end
return reply({ status = 'ok', offset = held[1] }, { held[2] })
`;
