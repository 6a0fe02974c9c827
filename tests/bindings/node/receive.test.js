'use strict';
// Consuming: for await over batches committed after handling, waits off the event loop that
// end when the receiver is closed.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { sluice, newBus, cli, payloads, sendNumbers } = require('./support');

test('for await yields batches, commits each when the loop moves on, and ends after the timeout', async (t) => {
  const bus = newBus(t);
  await sendNumbers(bus, 5);
  const seen = [];
  const inbox = bus.receive('w', { max: 2, timeout: 200 });
  for await (const batch of inbox) {
    seen.push(payloads(batch));
    assert.equal(bus.count('w'), 5 - seen.slice(0, -1).flat().length);  // this batch not yet committed
  }
  assert.deepEqual(seen, [['0', '1'], ['2', '3'], ['4']]);
  assert.equal(bus.count('w'), 0);
  assert.ok(inbox.closed, 'the loop ended and released the inbox');
});

test('a loop left by an exception leaves its batch pending and releases the inbox', async (t) => {
  const bus = newBus(t);
  await sendNumbers(bus, 3);
  await assert.rejects(async () => {
    for await (const batch of bus.receive('w', { max: 2, timeout: 200 })) {
      if (payloads(batch)[0] === '2') throw new Error('handler failed');
    }
  }, /handler failed/);
  const again = bus.receive('w');
  assert.deepEqual(payloads(await again.batch()), ['2']);
  again.close();
});

test('a batch committed before break is not delivered again', async (t) => {
  const bus = newBus(t);
  await sendNumbers(bus, 3);
  for await (const batch of bus.receive('w', { max: 2 })) {
    batch.commit();
    break;
  }
  const again = bus.receive('w');
  assert.deepEqual(payloads(await again.batch()), ['2']);
  again.close();
});

test('asking again before commit returns the same messages', async (t) => {
  const bus = newBus(t);
  await sendNumbers(bus, 2);
  const inbox = bus.receive('w');
  const first = await inbox.batch();
  const again = await inbox.batch();
  assert.deepEqual(payloads(first), ['0', '1']);
  assert.deepEqual(payloads(again), ['0', '1']);
  first.commit();
  again.commit();  // the same messages: already committed, nothing more is freed
  await sendNumbers(bus, 1);
  assert.deepEqual(payloads(await inbox.batch({ timeout: 5000 })), ['0']);
  inbox.close();
});

test('a batch keeps every field of its messages after later batches of the same receiver', async (t) => {
  const bus = newBus(t);
  await bus.send('alice', 'w', 'first', Buffer.from('one'), { priority: 'high' });
  await bus.send('bob', 'w', 'second', Buffer.from('two-two'));
  await bus.send('carol', 'w', 'third', Buffer.from('3'));
  const inbox = bus.receive('w', { max: 2 });
  const fields = (batch) =>
    batch.messages.map((m) => [m.from, m.type, m.priority, m.payload.toString(), m.id, m.sequence, m.sentNs]);
  const first = await inbox.batch();
  const before = fields(first);
  first.commit();
  const second = await inbox.batch();
  assert.deepEqual(fields(second).map((f) => f.slice(0, 4)), [['carol', 'third', 'normal', '3']]);
  assert.deepEqual(fields(first), before, 'the later batch changed nothing in the earlier one');
  assert.deepEqual(before.map((f) => f.slice(0, 4)), [
    ['alice', 'first', 'high', 'one'],
    ['bob', 'second', 'normal', 'two-two'],
  ]);
  assert.ok(before[0][4] !== before[1][4] && typeof before[0][4] === 'bigint');
  second.commit();
  inbox.close();
});

test('batches of growing size arrive whole through the same receiver', async (t) => {
  const bus = newBus(t);
  const inbox = bus.receive('w', { max: 8 });
  const sizes = [[1], [3000, 3000, 3000], [2, 3900, 3900, 3900, 3900, 3900]];
  for (const batchSizes of sizes) {
    const sent = batchSizes.map((n, i) => Buffer.alloc(n, 97 + i));
    for (const payload of sent) await bus.send('a', 'w', 't', payload);
    const batch = await inbox.batch({ timeout: 5000 });
    assert.deepEqual(batch.messages.map((m) => m.payload), sent);
    batch.commit();
  }
  inbox.close();
});

test('a waiting receiver leaves the event loop free, so a send from this process reaches it', async (t) => {
  const bus = newBus(t);
  const inbox = bus.receive('w');
  const waiting = inbox.batch({ timeout: 30000 });
  let ticked = false;
  await new Promise((resolve) => setTimeout(() => { ticked = true; resolve(); }, 10));
  await bus.send('a', 'w', 't', Buffer.from('from the same loop'));
  assert.deepEqual(payloads(await waiting), ['from the same loop']);
  assert.ok(ticked);
  inbox.close();
});

test('closing a receiver ends its pending wait with an empty batch and lets another consumer attach', async (t) => {
  const bus = newBus(t);
  const inbox = bus.receive('w');
  const waiting = inbox.batch({ timeout: null });
  setTimeout(() => inbox.close(), 10);
  assert.equal((await waiting).length, 0);
  assert.ok(inbox.closed);
  await assert.rejects(inbox.batch(), { code: 'SLUICE_UNAVAILABLE' });
  const other = new sluice.Bus({ dir: bus.path }).receive('w');
  assert.equal(other.closed, false);
  other.close();
});

test('loading the addon fills closed standard descriptors before anything is opened', (t) => {
  const bus = newBus(t);
  const code = `const fs = require('fs'); const s = require(${JSON.stringify(process.env.SLUICE_NODE_PACKAGE)});
    fs.writeSync(2, fs.readlinkSync('/proc/self/fd/1') + ' ');
    new s.Bus({ dir: ${JSON.stringify(bus.path)} }).send('a', 'w', 't', Buffer.from('x'))
      .then(() => fs.writeSync(2, fs.readlinkSync('/proc/self/fd/1')));`;
  // stdout closed in the child: bash closes fd 1, then execs node.
  const run = spawnSync('bash', ['-c', 'exec "$0" -e "$1" >&-', process.execPath, code], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /\/dev\/null \/dev\/null$/);
});

// A sender in another process rings the receiver's bell (inbox/bell.hpp), which the event
// loop watches: the wait ends because of the message, long before its timeout.
test('a waiting receiver is woken by a sender in another process', async (t) => {
  const bus = newBus(t);
  const inbox = bus.receive('w');
  const waiting = inbox.batch({ timeout: 30000 });
  if (cli(t, bus.path, 'send', 'shell', 'w', 'task', 'from a process') === null) return inbox.close();
  assert.deepEqual(payloads(await waiting), ['from a process']);
  inbox.close();
});

// A producer in another network namespace cannot reach the bell (an abstract socket): the
// receiver's periodic look at the inbox still finds its message.
test('a message from a sender in another network namespace still ends the wait', async (t) => {
  const exe = process.env.SLUICE_EXE;
  if (process.getuid() !== 0) return t.skip('needs root to create a network namespace');
  if (spawnSync('unshare', ['-n', 'true']).status !== 0) return t.skip('unshare -n is not permitted here');
  const bus = newBus(t);
  const inbox = bus.receive('w');
  const waiting = inbox.batch({ timeout: 30000 });
  const run = spawnSync('unshare', ['-n', exe, '--dir', bus.path, 'send', 'far', 'w', 'task', 'from afar'],
    { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(payloads(await waiting), ['from afar']);
  inbox.close();
});

// The environment's cleanup closes the loop's handles of a pending wait: libuv refuses to
// close a loop with open handles, and Node aborts the process when it cannot.
test('a worker thread ended while its receiver waits ends cleanly', async (t) => {
  const bus = newBus(t);
  const { Worker } = require('node:worker_threads');
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    const s = require(${JSON.stringify(process.env.SLUICE_NODE_PACKAGE)});
    const inbox = new s.Bus({ dir: ${JSON.stringify(bus.path)} }).receive('w');
    inbox.batch({ timeout: null });
    parentPort.postMessage('waiting');`, { eval: true });
  await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  assert.equal(await worker.terminate(), 1);
  const again = bus.receive('w');  // the worker's consumer lock went with it
  assert.equal(again.closed, false);
  again.close();
});

// Resolves once cond() holds, looking once per event-loop iteration.
async function until(cond) {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}

// spinUs: the loop looks at the inbox on every iteration (an idle handle) instead of sleeping
// on the bell; spawnSync holds the loop, so the spin is still on when the message is there.
test('a spinning receiver gets a message from a sender in another process', async (t) => {
  const bus = newBus(t);
  const inbox = bus.receive('w', { spinUs: 60e6 });
  const waiting = inbox.batch({ timeout: 30000 });
  assert.ok(inbox.spinning);
  if (cli(t, bus.path, 'send', 'shell', 'w', 'task', 'to a spinning receiver') === null) return inbox.close();
  assert.ok(inbox.spinning, 'the spin window is still open when the message is there');
  assert.deepEqual(payloads(await waiting), ['to a spinning receiver']);
  assert.equal(inbox.spinning, false, 'no wait pending: the idle handle is stopped');
  inbox.close();
});

test('timers and callbacks run while a receiver spins', async (t) => {
  const bus = newBus(t);
  const inbox = bus.receive('w');
  const waiting = inbox.batch({ timeout: 30000, spinUs: 60e6 });
  await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(inbox.spinning, 'a timer and an immediate ran during the spin');
  await bus.send('a', 'w', 't', Buffer.from('from the same loop'));
  assert.deepEqual(payloads(await waiting), ['from the same loop']);
  inbox.close();
});

test('after its spin window a receiver waits on the bell and still gets a later message', async (t) => {
  const bus = newBus(t);
  const inbox = bus.receive('w');
  let settled = false;
  const waiting = inbox.batch({ timeout: 30000, spinUs: 1000 }).finally(() => { settled = true; });
  assert.ok(inbox.spinning);
  await until(() => !inbox.spinning);
  assert.equal(settled, false, 'the wait goes on after the spin');
  if (cli(t, bus.path, 'send', 'shell', 'w', 'task', 'after the spin') === null) return inbox.close();
  assert.deepEqual(payloads(await waiting), ['after the spin']);
  inbox.close();
});

// Exits on its own only if close() settled the wait and stopped the idle handle: an active
// idle handle keeps the loop (and the process) running.
test('closing a spinning receiver ends its wait and lets the process exit', (t) => {
  const bus = newBus(t);
  const code = `const s = require(${JSON.stringify(process.env.SLUICE_NODE_PACKAGE)});
    const inbox = new s.Bus({ dir: ${JSON.stringify(bus.path)} }).receive('w', { spinUs: 60e6 });
    inbox.batch({ timeout: null }).then((b) => console.log('settled', b.length, inbox.spinning));
    setImmediate(() => { console.log('spinning', inbox.spinning); inbox.close(); });`;
  const run = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60000 });
  assert.equal(run.signal, null, 'the child did not exit on its own');
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'spinning true\nsettled 0 false\n');
});

test('a worker thread ended while its receiver spins ends cleanly', async (t) => {
  const bus = newBus(t);
  const { Worker } = require('node:worker_threads');
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    const s = require(${JSON.stringify(process.env.SLUICE_NODE_PACKAGE)});
    const inbox = new s.Bus({ dir: ${JSON.stringify(bus.path)} }).receive('w');
    inbox.batch({ timeout: null, spinUs: 60e6 });
    parentPort.postMessage(inbox.spinning);`, { eval: true });
  const spinning = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  assert.equal(spinning, true);
  assert.equal(await worker.terminate(), 1);
  const again = bus.receive('w');
  assert.equal(again.closed, false);
  again.close();
});

test('an invalid spinUs is refused as bad input', async (t) => {
  const bus = newBus(t);
  const inbox = bus.receive('w');
  await assert.rejects(inbox.batch({ timeout: 100, spinUs: -1 }), { code: 'SLUICE_BAD_INPUT' });
  await assert.rejects(inbox.batch({ timeout: 100, spinUs: 'fast' }), { code: 'SLUICE_BAD_INPUT' });
  inbox.close();
});

test('a timeout already over is still checked: a negative or non-finite one is bad input', async (t) => {
  const bus = newBus(t);
  for (const timeout of [-5, -Infinity, NaN, 'soon']) {
    assert.throws(() => bus.receive('w', { timeout }), { code: 'SLUICE_BAD_INPUT' }, String(timeout));
  }
  assert.throws(() => bus.receive('w', { max: 0 }), { code: 'SLUICE_BAD_INPUT' });
  assert.throws(() => bus.receive('w', { spinUs: -1 }), { code: 'SLUICE_BAD_INPUT' });
  const inbox = bus.receive('w');  // no consumer was left behind by the refusals
  for (const timeout of [-5, -Infinity]) {
    await assert.rejects(inbox.batch({ timeout }), { code: 'SLUICE_BAD_INPUT' }, String(timeout));
  }
  assert.equal((await inbox.batch({ timeout: 0 })).length, 0);
  inbox.close();
});
