'use strict';
// One side of a bindings benchmark, in Node.js (bench/bindings/run.py drives it); the same
// roles as peer.py:
//   node peer.js [--spin-us N] sink|source|lat-sink|lat-source <bus dir> <n> [interval us]
//   node peer.js pipe-sink|pipe-source - <n> [interval us]   (stamps over stdin / stdout)
// --spin-us: the sinks receive with that spinUs (index.d.ts, ReceiveOptions).
const fs = require('node:fs');

const args = process.argv.slice(2);
const spinUs = args[0] === '--spin-us' ? Number(args.splice(0, 2)[1]) : 0;
const [role, busDir, nText, intervalText] = args;
const n = Number(nText);
const pipeRole = role === 'pipe-sink' || role === 'pipe-source';
const sluice = pipeRole ? null : require(process.env.SLUICE_NODE_PACKAGE || 'sluice');
const bus = pipeRole ? null : new sluice.Bus({ dir: busDir });
const now = () => process.hrtime.bigint();  // CLOCK_MONOTONIC, as Python's and C++'s
// The latency source's pause between messages, as exact as Python's time.sleep and C++'s
// sleep_for: a setTimeout lasts at least 1 ms, and a receiver idle five times longer than the
// other languages' wakes later (about 25 us on the 2-vCPU VM), which is not the binding's cost.
// Atomics.wait blocks this process's loop, which has nothing else to do.
const pause = new Int32Array(new SharedArrayBuffer(4));
const sleep = (us) => Atomics.wait(pause, 0, 0, us / 1000);

// Without sluice: the loop wakes for stdin as the receiver's wait wakes for the bell.
function pipeSink() {
  console.log('ready');
  const lat = [];
  let pending = Buffer.alloc(0);
  process.stdin.on('data', (chunk) => {
    const t = now();
    pending = Buffer.concat([pending, chunk]);
    for (; pending.length >= 8; pending = pending.subarray(8)) lat.push(t - pending.readBigInt64LE(0));
    if (lat.length >= n) {
      console.log(lat.join(' '));
      process.exit(0);
    }
  });
}

async function main() {
  if (role === 'pipe-sink') {
    pipeSink();
  } else if (role === 'pipe-source') {
    const stamp = Buffer.alloc(8);
    for (let i = 0; i < n; i++) {
      sleep(Number(intervalText));
      stamp.writeBigInt64LE(now(), 0);
      fs.writeSync(1, stamp);
    }
  } else if (role === 'sink' || role === 'lat-sink') {
    const inbox = bus.receive('sink', { max: 1000, spinUs });
    console.log('ready');
    let got = 0;
    const lat = [];
    while (got < n) {
      const batch = await inbox.batch({ timeout: 30000 });
      if (batch.length === 0) throw new Error('sink: nothing for 30 s');
      if (role === 'lat-sink') {
        const t = now();
        for (const m of batch) lat.push(t - m.payload.readBigInt64LE(0));
      }
      got += batch.length;
      batch.commit();
    }
    inbox.close();
    console.log(role === 'sink' ? String(now()) : lat.join(' '));
  } else if (role === 'source') {
    const payload = Buffer.alloc(64, 120);
    const start = now();
    for (let i = 0; i < n; i++) await bus.send('source', 'sink', 'm', payload);
    console.log(String(start));
  } else if (role === 'lat-source') {
    const payload = Buffer.alloc(8);
    for (let i = 0; i < n; i++) {
      sleep(Number(intervalText));
      payload.writeBigInt64LE(now(), 0);
      await bus.send('source', 'sink', 'm', payload);
    }
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
