/**
 * Soak test of the device client: emulated devices on loopback, several callers per device
 * sending reads and writes, and random faults injected, for a bounded time. It reports lost
 * writes, unhandled rejections, leaked sockets and memory growth, and exits with status 1
 * when any of the first three is not zero.
 *
 * Usage: npm run soak -- --seconds N [--devices N] [--callers N] [--seed N]
 */

import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';

import { startEmulator } from '../src/emulator';
import type { Emulator, FaultSpec } from '../src/emulator/types';
import { DeviceClient } from '../src/lib/client';
import type { Logger } from '../src/lib/client/types';
import { WledError, type ErrorClass } from '../src/lib/errors';

const HELP = `Usage: npm run soak -- --seconds N [options]

Runs random faults under load against emulated WLED devices on 127.0.0.1 and reports lost
writes, unhandled rejections, leaked sockets and memory growth. Exits with status 1 when
lost writes, unhandled rejections or leaked sockets are not zero.

Options:
  --seconds N   how long the load runs, in seconds (default 30, at most 3600)
  --devices N   emulated devices, each with its own client (default 2, at most 8)
  --callers N   concurrent callers per device (default 4, at most 16)
  --seed N      seed of the random choices, to repeat a run (default: the current time)
  --help        show this help
`;

interface SoakOptions {
  seconds: number;
  devices: number;
  callers: number;
  seed: number;
}

/** Limits of the soak's clients: short, so that faults resolve quickly. */
const TIMEOUTS = { connectMs: 500, responseMs: 800, totalMs: 2500 };

/** How long after the load stops a call may still take before it counts as hung, in ms:
 *  the total deadline, the longest queue wait and the close grace. */
const SETTLE_MS = 2 * TIMEOUTS.totalMs + 1000;

/** Writes in the closing burst per device; the device must end in the last one's state. */
const FINAL_BURST = 20;

function parseOptions(argv: string[]): SoakOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string' },
      devices: { type: 'string' },
      callers: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    return undefined;
  }
  return {
    seconds: boundedInteger('--seconds', values.seconds, 30, 1, 3600),
    devices: boundedInteger('--devices', values.devices, 2, 1, 8),
    callers: boundedInteger('--callers', values.callers, 4, 1, 16),
    seed: boundedInteger('--seed', values.seed, Date.now() % 2 ** 31, 0, 2 ** 31),
  };
}

function boundedInteger(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) {
    return fallback;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `invalid ${name} ${JSON.stringify(text)}: expected a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/** Mulberry32: a small seeded generator, so that a run can be repeated with --seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Faults the injector picks from; `other-device` is left out because it stops all writes
 *  until the client is recreated, by design. */
function randomFault(random: () => number): FaultSpec {
  const faults: FaultSpec[] = [
    { kind: 'busy', count: 1 + Math.floor(random() * 3) },
    { kind: 'cut-json', count: 1 },
    { kind: 'short-body-fin', count: 1 },
    { kind: 'short-body-rst', count: 1 },
    { kind: 'reset-before-response', count: 1 },
    { kind: 'reset-after-headers', count: 1 },
    { kind: 'html-error', count: 1 },
    { kind: 'padded-chunks', count: 1 },
    { kind: 'never-answer', count: 1 },
    { kind: 'delay-headers', count: 1, delayMs: 300 },
    { kind: 'trickle-body', count: 1, delayMs: 400 },
    { kind: 'silent-close', forMs: 500 },
    { kind: 'keep-alive-idle', forMs: 800, delayMs: 100 },
    { kind: 'refuse-connections', forMs: 300 + Math.floor(random() * 1200) },
    { kind: 'reboot', delayMs: 300 },
  ];
  return faults[Math.floor(random() * faults.length)];
}

interface DeviceRun {
  emulator: Emulator;
  client: DeviceClient;
}

interface Tally {
  calls: number;
  successes: number;
  failures: Partial<Record<ErrorClass | 'unknown', number>>;
  /** Calls still pending after the load stopped and the settle time passed. */
  pending: Set<Promise<unknown>>;
}

const quietLogger: Logger = {
  debug: () => undefined,
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function track<T>(tally: Tally, call: Promise<T>): Promise<T | undefined> {
  tally.calls += 1;
  tally.pending.add(call);
  return call
    .then((value) => {
      tally.successes += 1;
      return value;
    })
    .catch((error: unknown) => {
      const errorClass = error instanceof WledError ? error.errorClass : 'unknown';
      tally.failures[errorClass] = (tally.failures[errorClass] ?? 0) + 1;
      return undefined;
    })
    .finally(() => tally.pending.delete(call));
}

/** Runs one caller: random calls one after another until `endAt`. */
async function runCaller(
  run: DeviceRun,
  tally: Tally,
  random: () => number,
  endAt: number,
): Promise<void> {
  while (Date.now() < endAt) {
    const pick = random();
    const { client } = run;

    if (pick < 0.45) {
      await track(tally, client.setState({ on: true, bri: 1 + Math.floor(random() * 254) }));
    } else if (pick < 0.5) {
      await track(tally, client.setState({ on: 't' }));
    } else if (pick < 0.55) {
      await track(tally, client.setState({ seg: [{ id: 0, sx: Math.floor(random() * 256) }] }));
    } else if (pick < 0.85) {
      await track(tally, client.read('state'));
    } else if (pick < 0.95) {
      await track(tally, client.read('info'));
    } else {
      await track(tally, client.effectLists());
    }

    // A short pause keeps a caller from spinning while its device fails fast.
    await sleep(Math.floor(random() * 20));
  }
}

async function injectFaults(
  runs: DeviceRun[],
  random: () => number,
  endAt: number,
): Promise<number> {
  let injected = 0;
  while (Date.now() < endAt) {
    await sleep(200 + Math.floor(random() * 600));
    if (Date.now() >= endAt) {
      break;
    }
    const run = runs[Math.floor(random() * runs.length)];
    run.emulator.inject(randomFault(random));
    injected += 1;
  }
  return injected;
}

/** Sends a burst of writes with faults cleared; returns whether the device ended in the last one. */
async function finalBurst(run: DeviceRun, tally: Tally): Promise<boolean> {
  const calls = [];
  for (let i = 1; i <= FINAL_BURST; i++) {
    calls.push(track(tally, run.client.setState({ on: true, bri: 200 + i })));
  }
  const results = await Promise.all(calls);
  const lastAnswered = results[results.length - 1] !== undefined;
  return lastAnswered && run.emulator.device.snapshot().state.bri === 200 + FINAL_BURST;
}

function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
}

function heapMiB(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

function openSockets(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) {
    console.log(HELP);
    return 0;
  }

  let unhandled = 0;
  process.on('unhandledRejection', (reason) => {
    unhandled += 1;
    console.error('unhandled rejection:', reason);
  });

  const random = seededRandom(options.seed);
  const socketsBefore = openSockets();
  console.log(
    `soak: ${options.seconds} s, ${options.devices} devices, ${options.callers} callers each, seed ${options.seed}`,
  );

  const runs: DeviceRun[] = [];
  for (let i = 0; i < options.devices; i++) {
    const emulator = await startEmulator({ host: '127.0.0.1', port: 0, latencyMs: [2, 15] });
    const client = new DeviceClient({
      name: `soak-${i + 1}`,
      baseUrl: emulator.url,
      timeouts: TIMEOUTS,
      recovery: { backoffBaseMs: 200, backoffMaxMs: 2000 },
      logger: quietLogger,
    });
    runs.push({ emulator, client });
  }

  const tally: Tally = { calls: 0, successes: 0, failures: {}, pending: new Set() };
  const startedAt = Date.now();
  const endAt = startedAt + options.seconds * 1000;
  let heapAtStart: number | undefined;
  const warmUp = sleep(Math.min(5000, options.seconds * 100)).then(() => {
    heapAtStart = heapMiB();
  });

  const callers = runs.flatMap((run) =>
    Array.from({ length: options.callers }, () => runCaller(run, tally, random, endAt)),
  );
  const injected = await injectFaults(runs, random, endAt);
  await warmUp;

  // Calls still running get the settle time; what remains after it has hung.
  let settleTimer: NodeJS.Timeout | undefined;
  const settleLimit = new Promise<boolean>((resolve) => {
    settleTimer = setTimeout(() => resolve(false), SETTLE_MS);
  });
  const inTime = await Promise.race([Promise.all(callers).then(() => true), settleLimit]);
  clearTimeout(settleTimer);
  const hung = inTime ? 0 : tally.pending.size;

  for (const run of runs) {
    run.emulator.clearFaults();
  }
  // Let devices taken offline come back and clients leave `unreachable`.
  await sleep(2500);

  let inconsistent = 0;
  for (const run of runs) {
    if (!(await finalBurst(run, tally))) {
      inconsistent += 1;
      console.error(`${run.client.name}: the device did not end in the last write's state`);
    }
  }

  const stats = runs.map((run) => run.client.stats());
  let leakedSockets = 0;
  for (const run of runs) {
    await run.client.close();
    const counts = run.client.socketCounts();
    leakedSockets += counts.active + counts.free + counts.queued;
  }
  for (const run of runs) {
    await run.emulator.close();
  }
  await sleep(100);
  leakedSockets += Math.max(0, openSockets() - socketsBefore);

  const heapAtEnd = heapMiB();
  const lostWrites = hung + inconsistent;
  const retries = stats.reduce((sum, entry) => sum + entry.retries, 0);
  const merged = stats.reduce((sum, entry) => sum + entry.mergedWrites, 0);

  console.log(`calls: ${tally.calls}, succeeded: ${tally.successes}, faults injected: ${injected}`);
  console.log(`failures by class: ${JSON.stringify(tally.failures)}`);
  console.log(`retries: ${retries}, merged writes: ${merged}`);
  console.log(`lost writes: ${lostWrites} (hung calls ${hung}, wrong final state ${inconsistent})`);
  console.log(`unhandled rejections: ${unhandled}`);
  console.log(`leaked sockets: ${leakedSockets}`);
  console.log(
    `heap: ${(heapAtStart ?? heapAtEnd).toFixed(1)} MiB after warm-up, ${heapAtEnd.toFixed(1)} MiB at the end ` +
      `(growth ${(heapAtEnd - (heapAtStart ?? heapAtEnd)).toFixed(1)} MiB, reported only)`,
  );

  return lostWrites + unhandled + leakedSockets === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  },
);
