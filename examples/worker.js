#!/usr/bin/env node
// A Node.js worker: every "task" is answered with a "result" to its sender, like worker.cpp.
// Run it under `sluice launch` (see swarm.toml), which sets SLUICE_AGENT and SLUICE_DIR.
'use strict';
const { Bus } = require('sluice');

const me = process.env.SLUICE_AGENT;
const bus = new Bus();  // the bus in SLUICE_DIR
const inbox = bus.receive(me);
// SIGTERM (launch stopping the swarm) ends the loop; a batch it did not finish stays in the
// inbox for the next run.
process.on('SIGTERM', () => inbox.close());

(async () => {
  for await (const batch of inbox) {  // each batch is committed when the loop moves on
    for (const task of batch) {
      // Backs off (off the event loop) while the sender's inbox is full.
      if (task.type === 'task') await bus.send(me, task.from, 'result', task.payload);
    }
  }
})();
