#!/usr/bin/env python3
"""A Python worker: every "task" is answered with a "result" to its sender, like worker.cpp.
Run it under `sluice launch` (see swarm.toml), which sets SLUICE_AGENT and SLUICE_DIR."""
import os
import signal

import sluice

me = os.environ["SLUICE_AGENT"]
bus = sluice.Bus()  # the bus in SLUICE_DIR
# SIGTERM (launch stopping the swarm) stops the loop as Ctrl-C does, between batches: a batch
# the loop did not finish stays in the inbox for the next run.
signal.signal(signal.SIGTERM, signal.default_int_handler)
try:
    with bus.receive(me) as inbox:
        for batch in inbox:  # each batch is committed when the loop moves on
            for task in batch:
                if task.type == "task":
                    # Backs off while the sender's inbox is full.
                    bus.send(me, task.sender, "result", task.payload)
except KeyboardInterrupt:
    pass
