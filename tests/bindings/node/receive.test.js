'use strict';
// Consuming: for await over batches committed after handling, waits off the event loop that
// end when the receiver is closed.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { sluice, newBus, payloads, sendNumbers } = require('./support');

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
