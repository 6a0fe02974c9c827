// Every API of the package as a TypeScript program would use it: types.test.js runs tsc
// --strict on this file against index.d.ts. Never run.
import { Bus, Batch, Message, Permit, SluiceError, errorKinds, InboxStats } from 'sluice';

async function worker(bus: Bus, me: string): Promise<number> {
  let handled = 0;
  for await (const batch of bus.receive(me, { max: 10, timeout: 1500 })) {
    for (const m of batch) {
      const id: bigint = m.id;
      const sent: bigint = m.sentNs;
      const payload: Buffer = m.payload;
      handled += Number(id > 0n) + Number(sent > 0n) + m.sequence + m.from.length + m.type.length;
      await bus.send(me, m.from, 'result', payload, { priority: 'high', timeout: 2000, wait: true, overflow: 'reject' });
    }
  }
  const inbox = bus.receive(me, { spinUs: 500 });
  const b: Batch = await inbox.batch({ timeout: null, spinUs: 1000 });
  const spinning: boolean = inbox.spinning;
  handled += Number(spinning);
  const first: Message = b.messages[0];
  handled += b.length + first.payload.length;
  b.commit();
  inbox.commit();
  if (!inbox.closed && inbox.agent === me) inbox.close();
  return handled;
}

function inspect(bus: Bus): void {
  const rows: InboxStats[] = bus.stats();
  const row: InboxStats = bus.stats('w');
  const pending: Message[] = bus.peek('w', 3);
  const names: string[] = bus.agents();
  const count: number = bus.count('w');
  console.log(rows, row.size, pending, names, count, bus.path);
}

async function errors(bus: Bus): Promise<void> {
  try {
    await bus.send('a', 'w', 't', new Uint8Array([1]), { wait: false });
  } catch (e) {
    const err = e as SluiceError;
    if (err.code === errorKinds.backpressure.code) console.log(err.exitCode, err.attempts, err.waited);
    if (err.kind === 'circuit_open') console.log(err.retryAfter);
  }
}

async function governed(bus: Bus): Promise<void> {
  const permit: Permit = await bus.acquire('llm', { cost: 1500, agent: 'a', timeout: 2500 });
  try {
    const lease: string | null = permit.lease;
    console.log(permit.key, lease, permit.limit, permit.remaining, permit.softQuotaExceeded);
  } finally {
    permit.release();
  }
  (await bus.acquire('gpu')).release();
}

inspect(new Bus('name'));
void errors(new Bus({ dir: '/tmp/x', group: true }));
void worker(new Bus(), 'w');
void governed(new Bus());
