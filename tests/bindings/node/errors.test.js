'use strict';
// Failures reject (or throw) with err.code / err.kind / err.exitCode mirroring `sluice`'s exit
// codes, and leave nothing behind.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { sluice, busDir, newBus, withEnv } = require('./support');

// An inbox of two slots, full.
async function fullInbox(bus, agent = 'w') {
  const small = withEnv({ MAX_INBOX_SIZE: '2' }, () => new sluice.Bus({ dir: bus.path }));
  await small.send('a', agent, 't', Buffer.from('1'));
  await small.send('a', agent, 't', Buffer.from('2'));
}

const kind = (k) => ({ code: sluice.errorKinds[k].code, kind: k, exitCode: sluice.errorKinds[k].exitCode });

test('every kind of failure has a code and the exit code of sluice', () => {
  assert.deepEqual(sluice.errorKinds.backpressure, { code: 'SLUICE_BACKPRESSURE', exitCode: 75 });
  assert.equal(sluice.errorKinds.circuit_open.exitCode, 69);
  assert.equal(sluice.errorKinds.too_large.exitCode, 65);
  assert.equal(sluice.errorKinds.permission.exitCode, 77);
  assert.equal(sluice.errorKinds.busy.exitCode, 75);
});

test('a full inbox with wait false rejects with backpressure and sends nothing', async (t) => {
  const bus = newBus(t);
  await fullInbox(bus);
  await assert.rejects(bus.send('a', 'w', 't', Buffer.from('3'), { wait: false }),
    { ...kind('backpressure'), message: /is full/ });
  assert.equal(bus.count('w'), 2);
});

test('an inbox that stays full rejects with backpressure after waiting off the event loop', async (t) => {
  const bus = newBus(t);
  await fullInbox(bus);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const err = await bus.send('a', 'w', 't', Buffer.from('3'), { timeout: 100 }).catch((e) => e);
  clearInterval(timer);
  assert.equal(err.code, 'SLUICE_BACKPRESSURE');
  assert.match(err.message, /stayed full/);
  assert.ok(err.attempts >= 2 && err.waited > 0);
  assert.ok(ticks > 0, 'timers ran while the send waited');
});

test('a send waiting on a full inbox is delivered once the consumer frees a slot', async (t) => {
  const bus = newBus(t);
  await fullInbox(bus);
  const pending = bus.send('a', 'w', 't', Buffer.from('3'), { timeout: 60000 });
  const inbox = bus.receive('w');
  (await inbox.batch({ timeout: 5000 })).commit();
  const id = await pending;
  assert.equal(typeof id, 'bigint');
  assert.deepEqual((await inbox.batch({ timeout: 5000 })).messages.map((m) => m.payload.toString()), ['3']);
  inbox.close();
});

test('sends that keep failing open the circuit and then fail at once', async (t) => {
  const bus = newBus(t);
  await fullInbox(bus);
  for (let i = 0; i < 5; i++) {
    await assert.rejects(bus.send('a', 'w', 't', Buffer.from('x'), { timeout: 1 }), kind('backpressure'));
  }
  const err = await bus.send('a', 'w', 't', Buffer.from('x'), { timeout: 10000 }).catch((e) => e);
  assert.equal(err.code, 'SLUICE_CIRCUIT_OPEN');
  assert.equal(err.exitCode, 69);
  assert.ok(err.retryAfter > 0);
  assert.equal(bus.stats('w').breaker, 'open');
});

test('a payload larger than a slot rejects with too_large and creates no inbox', async (t) => {
  const bus = newBus(t);
  await assert.rejects(bus.send('a', 'new', 't', Buffer.alloc(5000)), { ...kind('too_large'), message: /takes at most 3960/ });
  assert.deepEqual(bus.agents(), []);
});

test('a misspelt option is a TypeError naming it, not an option silently dropped', async (t) => {
  const bus = newBus(t);
  const x = Buffer.from('x');
  const unknown = (key, call) => ({ name: 'TypeError', message: new RegExp(`unknown option '${key}' for ${call} \\(known: `) });
  await assert.rejects(async () => bus.send('a', 'w', 't', x, { timout: 5 }), unknown('timout', 'send'));
  assert.throws(() => bus.receive('w', { spinus: 5 }), unknown('spinus', 'receive'));
  const inbox = bus.receive('w');
  await assert.rejects(inbox.batch({ timeOut: 0 }), unknown('timeOut', 'batch'));
  inbox.close();
  await assert.rejects(async () => bus.acquire('k', { costs: 1 }), unknown('costs', 'acquire'));
  assert.throws(() => new sluice.Bus({ dirr: '/tmp/x' }), unknown('dirr', 'new Bus'));
  assert.equal(bus.count('w'), 0);
});

test('a bus given by name and by directory throws bad_input', () => {
  assert.throws(() => new sluice.Bus({ name: 'x', dir: '/tmp/sluice-never-made' }),
    { ...kind('bad_input'), message: /give one of them/ });
});

test('a payload too large for agent@peer is told in the sender terms', async (t) => {
  const bus = newBus(t);
  // "far\n" rides in front of the payload in outbound inbox bridge-west (3960 bytes a slot).
  for (const round of ['a new outbound inbox', 'the existing one']) {
    await assert.rejects(bus.send('a', 'far@west', 't', Buffer.alloc(3960)),
      { ...kind('too_large'), message: /payload is 3960 bytes, inbox far@west takes at most 3956/ }, round);
    await bus.send('a', 'far@west', 't', Buffer.alloc(3956));
  }
  assert.equal(bus.count('bridge-west'), 2);
});

test('invalid names, types and options reject with bad_input', async (t) => {
  const bus = newBus(t);
  const x = Buffer.from('x');
  for (const call of [
    () => bus.send('bad name', 'w', 't', x),
    () => bus.send('a', 'w/..', 't', x),
    () => bus.send('a', 'w', 'bad type!', x),
    () => bus.send('a', 'w', 't', x, { priority: 'urgent' }),
    () => bus.send('a', 'w', 't', x, { overflow: 'evict' }),
    () => bus.send('a', 'w', 't', x, { timeout: -1 }),
  ]) {
    await assert.rejects(call(), kind('bad_input'));
  }
  assert.throws(() => new sluice.Bus('../etc'), kind('bad_input'));
  assert.deepEqual(bus.agents(), []);
});

test('a time out of range names the range it takes', async (t) => {
  const bus = newBus(t);
  const x = Buffer.from('x');
  for (const timeout of [-1, 1e13, Infinity, NaN]) {
    await assert.rejects(bus.send('a', 'w', 't', x, { timeout }), {
      ...kind('bad_input'),
      message: /invalid timeout: use a number of milliseconds from 0 to 1e12, or undefined/,
    });
  }
  const inbox = bus.receive('w');
  await assert.rejects(inbox.batch({ timeout: 100, spinUs: 1e13 }), {
    ...kind('bad_input'),
    message: /invalid spinUs: use a number of microseconds from 0 to 1e12, or undefined/,
  });
  inbox.close();
});

test('a second consumer of an inbox throws busy', (t) => {
  const bus = newBus(t);
  const inbox = bus.receive('w');
  assert.throws(() => new sluice.Bus({ dir: bus.path }).receive('w'), { ...kind('busy'), message: /already has a consumer/ });
  inbox.close();
});

test('stats of a missing inbox throw not_found', (t) => {
  const bus = newBus(t);
  assert.throws(() => bus.stats('nobody'), kind('not_found'));
});

test('a bus directory others may write to throws permission', (t) => {
  const dir = busDir(t);
  fs.mkdirSync(dir, { mode: 0o777 });
  fs.chmodSync(dir, 0o777);
  assert.throws(() => new sluice.Bus({ dir }), { ...kind('permission'), message: /writable/ });
});

test('the private bus of another user throws permission for that user', async (t) => {
  if (process.getuid() !== 0) return t.skip('needs root to run a child as nobody');
  const bus = newBus(t);
  await bus.send('a', 'w', 't', Buffer.from('x'));
  const code = `const s = require(${JSON.stringify(process.env.SLUICE_NODE_PACKAGE)});
    s.Bus.prototype.send.call(new s.Bus({ dir: ${JSON.stringify(bus.path)} }), 'a', 'w', 't', Buffer.from('x'))
      .catch((e) => console.log(e.code));`;
  const run = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e',
    `try { ${code} } catch (e) { console.log(e.code); }`], { encoding: 'utf8' });
  assert.equal(run.stdout.trim(), 'SLUICE_PERMISSION', run.stderr);
  assert.equal(bus.count('w'), 1);
});

test('drop-oldest makes room in a full inbox by evicting the oldest message', async (t) => {
  const bus = newBus(t);
  await fullInbox(bus);
  await bus.send('a', 'w', 't', Buffer.from('3'), { overflow: 'drop-oldest', wait: false });
  assert.deepEqual(bus.peek('w').map((m) => m.payload.toString()), ['2', '3']);
  assert.equal(bus.stats('w').dropped, 1);
});
