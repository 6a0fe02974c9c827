'use strict';
// Shared by the Node binding's tests: the package under test, a fresh bus directory per
// test, and the `sluice` executable for cross-checks.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const sluice = require(process.env.SLUICE_NODE_PACKAGE);

// In /dev/shm like a real bus; every directory above it is root's or sticky, so trusted.
function busDir(t) {
  const d = fs.mkdtempSync(path.join('/dev/shm', 'sluice-node-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return path.join(d, 'bus');
}

function newBus(t, env = {}) {
  const dir = busDir(t);
  return withEnv(env, () => new sluice.Bus({ dir }));
}

// Runs fn with environment variables set (the bus reads its configuration when opened).
function withEnv(env, fn) {
  const saved = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

// `sluice --dir dir args...`; skips the test when the executable is not built.
function cli(t, dir, ...args) {
  const exe = process.env.SLUICE_EXE;
  if (!exe || !fs.existsSync(exe)) {
    t.skip('the sluice executable is not built (SLUICE_EXE)');
    return null;
  }
  const run = spawnSync(exe, ['--dir', dir, ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`sluice ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

const payloads = (batch) => batch.messages.map((m) => m.payload.toString());

async function sendNumbers(bus, n, to = 'w') {
  for (let i = 0; i < n; i++) await bus.send('a', to, 't', Buffer.from(String(i)));
}

module.exports = { sluice, busDir, newBus, withEnv, cli, payloads, sendNumbers };
