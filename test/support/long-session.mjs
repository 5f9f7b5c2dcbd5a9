// A long chat written straight into a store: `turns` turns of `deltas` deltas each, every third turn
// by two agents, a cancel every 7th turn and a steer every 5th. Shared by test/snapshots.test.ts and
// bench/snapshots.bench.mjs. Returns every event written, in log order.
const enc = (value) => new TextEncoder().encode(JSON.stringify(value));

export function longSessionEvents(turns, deltas, prefix = 't') {
  const events = [];
  for (let t = 0; t < turns; t++) {
    const turnId = `${prefix}${t}`;
    const agents = t % 3 === 2 ? ['writer', 'critic'] : ['writer'];
    events.push({ type: 'prompt', turnId, text: `question ${t}`, clientId: 'c1' });
    for (const agentId of agents) events.push({ type: 'turn.start', turnId, agentId });
    for (let d = 0; d < deltas; d++) {
      events.push({ type: 'delta', turnId, agentId: agents[d % agents.length], text: `w${d} ` });
      if (t % 5 === 4 && d === 1) events.push({ type: 'steer', turnId, text: 'shorter', clientId: 'c1' });
    }
    if (t % 7 === 6) events.push({ type: 'cancel', turnId, clientId: 'c1' });
    for (const agentId of agents) events.push({ type: 'turn.end', turnId, agentId, reason: t % 7 === 6 ? 'cancelled' : 'complete' });
  }
  return events;
}

export async function writeLongSession(store, sessionId, turns, deltas) {
  await store.create(sessionId, { contentType: 'application/json' });
  const events = longSessionEvents(turns, deltas);
  for (let i = 0; i < events.length; i += 500) {
    const r = await store.append(sessionId, { entries: events.slice(i, i + 500).map(enc) });
    if (r.status !== 'appended') throw new Error(`append: ${r.status}`);
  }
  return events;
}
