// Type declarations for the sluice Node.js addon (bindings/node).

export type Priority = 'critical' | 'high' | 'normal' | 'low';
export type Overflow = 'reject' | 'drop-oldest';
export type ErrorKind =
  | 'bad_input'
  | 'too_large'
  | 'not_found'
  | 'unavailable'
  | 'circuit_open'
  | 'internal'
  | 'os_error'
  | 'io_error'
  | 'backpressure'
  | 'busy'
  | 'permission';

/** What every sluice failure carries: the kind, and the exit code `sluice` gives it. An
 *  argument of the wrong type is not one: it is a TypeError with code 'ERR_INVALID_ARG_TYPE'. */
export interface SluiceError extends Error {
  /** 'SLUICE_' + kind in capitals, e.g. 'SLUICE_BACKPRESSURE'. */
  code: string;
  kind: ErrorKind;
  /** 65 bad input / too large, 66 not found, 69 unavailable / circuit open, 70 internal,
   *  71 OS refused, 74 I/O, 75 backpressure / busy, 77 permission. */
  exitCode: number;
  /** circuit_open: ms until a send can succeed again. */
  retryAfter?: number;
  /** backpressure: pushes tried, and ms spent waiting. */
  attempts?: number;
  waited?: number;
}

export const errorKinds: Record<ErrorKind, { code: string; exitCode: number }>;

export interface Message {
  id: bigint;
  sequence: number;
  /** CLOCK_REALTIME at send, ns since the epoch. */
  sentNs: bigint;
  priority: Priority;
  from: string;
  type: string;
  /** The message's own copy: it stays valid and unchanged whatever the receiver reads next. */
  payload: Buffer;
}

export interface SendOptions {
  priority?: Priority;
  /** ms a send may wait on a full inbox; default the configured budget (5 s). */
  timeout?: number | null;
  /** false: a full inbox rejects the send at once (SLUICE_BACKPRESSURE). Default true. */
  wait?: boolean;
  overflow?: Overflow;
}

export interface ReceiveOptions {
  /** Messages per batch; default the bus's batch size (from the load monitor). */
  max?: number;
  /** ms to wait for a batch; undefined or null: without end. */
  timeout?: number | null;
  /** Microseconds a batch() that finds the inbox empty looks at it on every event-loop
   *  iteration before it sleeps on the inbox's bell (default 0: sleeps at once). Counted from
   *  when the batch() starts waiting. A message then needs no wake-up of the loop (Node's own
   *  costs about 20 us), but the process keeps one core at 100 % while a wait is inside this
   *  window. The loop stays free meanwhile (an idle handle: timers, I/O and callbacks run).
   *  For a receiver that must answer a steady stream within microseconds, on a machine with a
   *  core to spare (sharing its core, a spinning process is preempted and answers later than
   *  one woken by the bell); pick a window a bit longer than the expected gap between
   *  messages, so the stream never reaches the bell. */
  spinUs?: number;
}

export interface BusOptions {
  /** /dev/shm/sluice/<name>. */
  name?: string;
  /** A bus directory (not with name). Neither: SLUICE_DIR / SLUICE_BUS like `sluice`. */
  dir?: string;
  /** A group bus (inboxes 0660). */
  group?: boolean;
}

export interface InboxStats {
  agent: string;
  size?: number;
  utilization?: number;
  max_size?: number;
  critical_size?: number;
  critical_reserve?: number;
  enqueued?: number;
  dequeued?: number;
  rejected_full?: number;
  /** Of rejected_full: refusals of a sender that held its fair share of a congested inbox. */
  rejected_fair_share?: number;
  dropped?: number;
  abandoned?: number;
  corrupt?: number;
  backpressure_waits?: number;
  send_failures?: number;
  breaker?: 'closed' | 'open' | 'half_open';
  /** The inbox could not be read (no counters then). */
  error?: string;
  [key: string]: string | number | undefined;
}

/** Messages received together. commit() frees them in the inbox. */
export class Batch implements Iterable<Message> {
  readonly messages: Message[];
  readonly length: number;
  readonly committed: boolean;
  commit(): void;
  [Symbol.iterator](): Iterator<Message>;
}

/** The consumer of one agent's inbox; one process at a time. */
export class Receiver implements AsyncIterable<Batch> {
  readonly agent: string;
  readonly closed: boolean;
  /** True while a pending wait looks at the inbox on every loop iteration (within spinUs). */
  readonly spinning: boolean;
  /** Waits (off the event loop) up to timeout ms for messages; empty when none came. */
  batch(options?: ReceiveOptions): Promise<Batch>;
  commit(): void;
  close(): void;
  /** Each batch is committed when the loop asks for the next; leaving the loop closes the
   *  receiver and leaves an unfinished batch pending (commit before break). */
  [Symbol.asyncIterator](): AsyncIterableIterator<Batch>;
}

export interface AcquireOptions {
  /** Units of the limit to take (default 1), e.g. an LLM call's tokens. */
  cost?: number;
  /** Whom the cost is recorded against (`sluice cost`); default "node". */
  agent?: string;
  /** Milliseconds to wait for room (default 5000, as `sluice acquire`; 0: not at all). */
  timeout?: number;
}

/** A permit of a named limit of the bus policy. Give it back with release() (in a finally);
 *  one collected without release() gives its lease back then; a process that dies loses it
 *  to the next acquire. */
export interface Permit {
  readonly key: string;
  /** What `sluice release` takes; null for a limit without concurrency. */
  readonly lease: string | null;
  readonly limit: number;
  readonly remaining: number;
  readonly softQuotaExceeded: boolean;
  /** Gives the lease back now; later calls do nothing. */
  release(): void;
}

export class Bus {
  constructor(options?: string | BusOptions);
  readonly path: string;
  /** Sends with backpressure; resolves to the message id. Rejects with a SluiceError. */
  send(
    from: string,
    to: string,
    type: string,
    payload: ArrayBufferView | ArrayBuffer,
    options?: SendOptions,
  ): Promise<bigint>;
  receive(agent: string, options?: ReceiveOptions): Receiver;
  peek(agent: string, max?: number): Message[];
  count(agent: string): number;
  stats(): InboxStats[];
  stats(agent: string): InboxStats;
  agents(): string[];
  /** Takes a permit of the policy's [[limit]] `key`, waiting off the event loop. Rejects with
   *  SLUICE_BACKPRESSURE (no room in time, 75), SLUICE_UNAVAILABLE (a deny rule or a hard
   *  quota, 69), SLUICE_NOT_FOUND (no policy or no such limit, 66). */
  acquire(key: string, options?: AcquireOptions): Promise<Permit>;
}
