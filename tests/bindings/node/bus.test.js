'use strict';
// Sending, looking and counting through the Node addon, and that it is the same bus the
// `sluice` command sees.
const test = require('node:test');
const assert = require('node:assert/strict');
const { sluice, busDir, newBus, withEnv, cli, payloads, sendNumbers } = require('./support');

test('a message arrives with its bytes, sender, type, priority and id', async (t) => {
  const bus = newBus(t);
  const id = await bus.send('planner', 'worker', 'task', Buffer.from('{"n":1}'), { priority: 'high' });
  assert.equal(typeof id, 'bigint');
  const inbox = bus.receive('worker');
  const batch = await inbox.batch({ timeout: 5000 });
  assert.equal(batch.length, 1);
  const [m] = batch;
  assert.deepEqual([m.id, m.from, m.type, m.priority, m.payload.toString()], [id, 'planner', 'task', 'high', '{"n":1}']);
  assert.ok(Buffer.isBuffer(m.payload));
  assert.ok(m.sentNs > 0n);
  inbox.close();
});

test('binary payloads round-trip exactly from a Buffer, a Uint8Array and an ArrayBuffer', async (t) => {
  const bus = newBus(t);
  const everyByte = Buffer.from(Array.from({ length: 768 }, (_, i) => i % 256));
  await bus.send('a', 'b', 'bin', everyByte);
  await bus.send('a', 'b', 'bin', new Uint8Array([0, 1, 2]).subarray(1));
  await bus.send('a', 'b', 'bin', new Uint8Array([9, 0]).buffer);
  const inbox = bus.receive('b');
  const got = (await inbox.batch({ timeout: 5000 })).messages.map((m) => m.payload);
  assert.deepEqual(got, [everyByte, Buffer.from([1, 2]), Buffer.from([9, 0])]);
  inbox.close();
});

test('a view over a SharedArrayBuffer, a DataView and a wider typed array send their bytes', async (t) => {
  const bus = newBus(t);
  const shared = new Uint8Array(new SharedArrayBuffer(6));
  shared.set([1, 2, 3, 4, 5, 6]);
  await bus.send('a', 'b', 'bin', shared.subarray(2, 5));
  await bus.send('a', 'b', 'bin', new DataView(shared.buffer, 1, 2));
  await bus.send('a', 'b', 'bin', new DataView(new Uint8Array([7, 8, 9]).buffer, 1));
  await bus.send('a', 'b', 'bin', new Uint16Array([0x0201, 0x0403]).subarray(1));
  const inbox = bus.receive('b');
  const got = (await inbox.batch({ timeout: 5000 })).messages.map((m) => m.payload);
  const word = Buffer.alloc(2);
  word.writeUInt16LE(0x0403);  // a typed array's bytes as they lie in memory
  assert.deepEqual(got, [Buffer.from([3, 4, 5]), Buffer.from([2, 3]), Buffer.from([8, 9]), word]);
  inbox.close();
});

test('text is refused as a payload so the encoding is chosen by the caller', async (t) => {
  const bus = newBus(t);
  await assert.rejects(bus.send('a', 'b', 't', 'text'), {
    name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /Buffer.from/,
  });
  assert.equal(bus.count('b'), 0);
});

test('an argument of the wrong type is a TypeError with the code Node gives it', async (t) => {
  const wrongType = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
  assert.throws(() => new sluice.Bus(42), wrongType);
  assert.throws(() => new sluice.Bus({ dir: 7 }), { ...wrongType, message: /dir must be a string/ });
  const bus = newBus(t);
  await assert.rejects(bus.send('a', 'b', 't', Buffer.from('x'), 'now'), wrongType);
  await assert.rejects(bus.send('a', 'b', 't', Buffer.from('x'), { priority: 1 }), wrongType);
  assert.equal(bus.count('b'), 0);
});

test('critical messages are received before the others', async (t) => {
  const bus = newBus(t);
  await bus.send('a', 'w', 't', Buffer.from('normal'));
  await bus.send('a', 'w', 't', Buffer.from('low'), { priority: 'low' });
  await bus.send('a', 'w', 't', Buffer.from('critical'), { priority: 'critical' });
  const inbox = bus.receive('w', { max: 1 });
  assert.deepEqual(payloads(await inbox.batch({ timeout: 5000 })), ['critical']);
  inbox.close();
});

test('peek does not consume and count says how many are pending', async (t) => {
  const bus = newBus(t);
  assert.equal(bus.count('w'), 0);
  assert.deepEqual(bus.peek('w'), []);
  await sendNumbers(bus, 3);
  assert.deepEqual(bus.peek('w').map((m) => m.payload.toString()), ['0', '1', '2']);
  assert.deepEqual(bus.peek('w', 2).map((m) => m.payload.toString()), ['0', '1']);
  assert.equal(bus.count('w'), 3);
});

test('a bus by name lives under /dev/shm/sluice and without arguments follows SLUICE_DIR', (t) => {
  assert.equal(new sluice.Bus('node-test-name').path, '/dev/shm/sluice/node-test-name');
  const dir = busDir(t);
  withEnv({ SLUICE_DIR: dir }, () => {
    assert.equal(new sluice.Bus().path, dir);
    assert.equal(new sluice.Bus('node-test-name').path, '/dev/shm/sluice/node-test-name');
  });
});

test('the stats rows are the rows of sluice get-stats', async (t) => {
  const bus = newBus(t);
  await bus.send('a', 'w1', 't', Buffer.from('x'));
  await bus.send('a', 'w2', 't', Buffer.from('y'), { priority: 'critical' });
  const inbox = bus.receive('w1');
  (await inbox.batch({ timeout: 5000 })).commit();
  inbox.close();
  const out = cli(t, bus.path, 'get-stats');
  if (out === null) return;
  assert.deepEqual(bus.stats(), JSON.parse(out));
  assert.deepEqual(bus.stats('w2'), JSON.parse(out)[1]);
  assert.deepEqual(bus.agents(), ['w1', 'w2']);
});

test('a message from the cli reaches node and the reply from node reaches the cli', async (t) => {
  const bus = newBus(t);
  if (cli(t, bus.path, 'send', 'shell', 'js', 'task', '{"n":7}') === null) return;
  const inbox = bus.receive('js');
  const batch = await inbox.batch({ timeout: 5000 });
  const [task] = batch;
  await bus.send('js', task.from, 'result', task.payload);
  batch.commit();
  inbox.close();
  const got = JSON.parse(cli(t, bus.path, 'recv', 'shell'));
  assert.deepEqual(got.map((m) => [m.from, m.type, m.payload]), [['js', 'result', { n: 7 }]]);
});

test('an agent at a peer goes into the outbound inbox of the bridge to that peer', async (t) => {
  const bus = newBus(t);
  await bus.send('me', 'far@east', 'task', Buffer.from('hello'));
  assert.deepEqual(bus.peek('bridge-east').map((m) => m.payload.toString()), ['far\nhello']);
});
