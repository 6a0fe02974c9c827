'use strict';
// sluice for Node.js: bounded, crash-safe shared-memory inboxes for agents that run as
// separate local processes. The native addon (sluice.node) is the library the `sluice`
// command uses, not a wrapper around it; this file adds the receiver's async iteration.
//
//   const { Bus } = require('sluice');
//   const bus = new Bus('demo');                        // /dev/shm/sluice/demo; new Bus() follows SLUICE_DIR
//   await bus.send('planner', 'worker', 'task', Buffer.from('{"n":1}'));
//   for await (const batch of bus.receive('worker', { timeout: 1000 })) {
//     for (const m of batch) await bus.send('worker', m.from, 'result', m.payload);
//   }                                                   // each batch committed once the loop moves on
//
// Latency: a waiting receiver sleeps on its inbox's bell, and a message wakes the event loop
// through a descriptor, which costs Node itself about 20 us. { spinUs } avoids that wake-up:
// for that many microseconds after a batch() starts waiting, the loop looks at the inbox on
// every iteration instead of sleeping (an idle handle: timers, I/O and callbacks keep running,
// the loop is busy, not blocked), then sleeps on the bell as without it. It costs a core at
// 100 % while a wait is inside its window; worth it for a receiver that answers a stream of
// messages within microseconds, on a machine with a core to spare (a spinning process that
// must share its core is preempted, and then answers later than one woken by the bell).
// Receiver.spinning tells whether a wait spins now.
const native = require('./sluice.node');

const now = () => performance.now();
const receiveOptionKeys = ['max', 'timeout', 'spinUs'];
// batch()'s default: the receiver's own options, checked once in its constructor, so the
// batches of a loop pay for no check.
const noOptions = Object.freeze({});

// A batch as the addon hands it over (addon.cpp, message_columns) -> Message objects.
function unpack(columns) {
  const { ids, sent, numbers, names, payloads } = columns;
  const count = numbers[0];
  const messages = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = 1 + 4 * i;
    const start = numbers[n + 2];
    messages[i] = {
      id: ids[i],
      sequence: numbers[n],
      sentNs: sent[i],
      priority: native.priorities[numbers[n + 1]],
      from: names[2 * i],
      type: names[2 * i + 1],
      payload: Buffer.from(payloads.subarray(start, start + numbers[n + 3])),
    };
  }
  return messages;
}

class Batch {
  #receiver;
  #generation;
  #committed = false;

  constructor(receiver, messages) {
    this.#receiver = receiver;
    this.#generation = receiver.commits;
    this.messages = messages;
  }

  get length() {
    return this.messages.length;
  }

  get committed() {
    return this.#committed;
  }

  [Symbol.iterator]() {
    return this.messages[Symbol.iterator]();
  }

  // Frees these messages in the inbox. Nothing to do once the receiver committed since they
  // were read (they are gone) or was closed (they stay pending for the next consumer).
  commit() {
    const r = this.#receiver;
    if (!this.#committed && this.messages.length > 0 && !r.closed && r.commits === this.#generation) {
      r.commit();
    }
    this.#committed = true;
  }
}

class Receiver {
  #native;
  #max;
  #timeout;
  #spinUs;

  constructor(bus, agent, options = {}) {
    native.checkOptionKeys(options, receiveOptionKeys, 'receive');
    native.checkReceiveOptions(options.max, options.timeout, options.spinUs);
    this.#native = new native.Receiver(bus, agent);
    this.#max = options.max;
    this.#timeout = options.timeout;
    this.#spinUs = options.spinUs;
  }

  get agent() {
    return this.#native.agent;
  }

  get closed() {
    return this.#native.closed;
  }

  // Whether a pending wait is looking at the inbox on every loop iteration (within its spinUs).
  get spinning() {
    return this.#native.spinning;
  }

  // The pending messages, waiting up to `timeout` ms (undefined: the receiver's; null: without
  // end) for the first one, off the event loop. Empty when none came, or when the receiver was
  // closed meanwhile. Until committed, asking again returns the same messages. spinUs
  // (undefined: the receiver's) counts from when this call starts waiting, across the waits
  // it may take.
  async batch(options = noOptions) {
    const r = this.#native;
    if (options !== noOptions) native.checkOptionKeys(options, receiveOptionKeys, 'batch');
    // A wait checks its timeout and spinUs, but a timeout already over never reaches one.
    if (options.timeout != null || options.spinUs != null)
      native.checkReceiveOptions(undefined, options.timeout, options.spinUs);
    const max = options.max ?? this.#max;
    const timeout = options.timeout === undefined ? this.#timeout : options.timeout;
    const spinUs = options.spinUs === undefined ? this.#spinUs : options.spinUs;
    const columns = r.columns;
    r.pop(max);
    let messages = unpack(columns);
    const started = now();
    const deadline = timeout == null ? Infinity : started + timeout;
    // The first wait gets spinUs as given, so the addon checks it; later ones what is left.
    let spin = spinUs;
    while (messages.length === 0) {
      const left = deadline - now();
      if (left <= 0) break;
      await r.wait(left === Infinity ? undefined : left, spin);
      if (spinUs) spin = Math.max(0, spinUs - (now() - started) * 1000);
      if (r.closed) break;
      r.pop(max);
      messages = unpack(columns);
    }
    return new Batch(r, messages);
  }

  // Commits the batch read last.
  commit() {
    this.#native.commit();
  }

  // Releases the inbox (and ends a pending wait); an uncommitted batch stays pending.
  close() {
    this.#native.close();
  }

  // for await (const batch of receiver): each batch is committed when the loop asks for the
  // next one, after its body finished with it. The loop ends when no message came within the
  // receiver's timeout or the receiver was closed; leaving it (break, an exception, or the
  // end) closes the receiver, and a batch the loop did not finish stays pending: commit a
  // handled batch before break.
  [Symbol.asyncIterator]() {
    let current = null;
    const done = () => {
      this.close();
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        if (current) current.commit();
        current = null;
        if (this.closed) return done();
        const batch = await this.batch();
        if (batch.length === 0) return done();
        current = batch;
        return { done: false, value: batch };
      },
      return: async () => done(),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

class Bus extends native.Bus {
  // Pending messages of `agent` without consuming them, at most `max`.
  peek(agent, max) {
    return unpack(super.peek(agent, max));
  }

  // The consumer of `agent`'s inbox (created when missing); one process at a time
  // (SLUICE_BUSY otherwise). max: messages per batch (undefined: the bus's batch size, from
  // the load monitor); timeout: ms iteration waits for a batch (undefined: without end);
  // spinUs: microseconds a wait looks at the inbox on every loop iteration before it sleeps
  // (default 0; a busy core meanwhile, see the top of this file).
  receive(agent, options = {}) {
    return new Receiver(this, agent, options);
  }
}

module.exports = { Bus, Receiver, Batch, errorKinds: native.errorKinds };
