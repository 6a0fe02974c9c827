'use strict';
// bus.acquire: a named limit of the bus policy from Node, as `sluice acquire` takes it,
// waiting off the event loop, with a permit whose release() gives the lease back.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { sluice, newBus, cli } = require('./support');

const policyFile = path.join(__dirname, '..', 'acquire_policy.toml');

function governed(t) {
  const bus = newBus(t);
  if (cli(t, bus.path, 'policy', 'apply', policyFile) === null) return null;
  return bus;
}

const limitNamed = (t, bus, name) =>
  JSON.parse(cli(t, bus.path, 'limits')).limits.find((l) => l.name === name);

const kind = (k) => ({ code: sluice.errorKinds[k].code, kind: k, exitCode: sluice.errorKinds[k].exitCode });

test('a permit holds its lease until release, and a second acquire waits off the event loop', async (t) => {
  const bus = governed(t);
  if (!bus) return;
  const permit = await bus.acquire('gpu', { agent: 'node-agent' });
  assert.equal(permit.key, 'gpu');
  assert.equal(typeof permit.lease, 'string');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await assert.rejects(bus.acquire('gpu', { timeout: 100 }), kind('backpressure'));
  clearInterval(timer);
  assert.ok(ticks > 10, `the event loop ran ${ticks} times during the wait`);
  assert.equal(limitNamed(t, bus, 'gpu').holders.length, 1);
  permit.release();
  permit.release();  // a second release does nothing
  assert.deepEqual(limitNamed(t, bus, 'gpu').holders, []);
  const again = await bus.acquire('gpu');
  again.release();
  assert.equal(limitNamed(t, bus, 'gpu').released, 2);
});

test('cost is recorded against the agent and a hard quota rejects with the exit-69 kind', async (t) => {
  const bus = governed(t);
  if (!bus) return;
  const permit = await bus.acquire('llm', { cost: 600, agent: 'node-agent' });
  assert.equal(permit.lease, null);
  assert.equal(permit.remaining, 9);
  await assert.rejects(bus.acquire('llm', { cost: 600 }), { ...kind('unavailable'), message: /quota/ });
  const rows = JSON.parse(cli(t, bus.path, 'cost', '--by', 'agent'));
  assert.deepEqual(rows.map((r) => [r.agent, r.cost]), [['node-agent', 600]]);
});

test('no policy and an unknown limit reject as not found; a bad cost as bad input', async (t) => {
  const plain = newBus(t);
  await assert.rejects(plain.acquire('gpu'), kind('not_found'));
  const bus = governed(t);
  if (!bus) return;
  await assert.rejects(bus.acquire('nope'), kind('not_found'));
  await assert.rejects(bus.acquire('gpu', { cost: 0 }), kind('bad_input'));
  await assert.rejects(bus.acquire(42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
});
