/**
 * Per-request overhead: sequential `GET /json/state` and set-state POSTs through our device
 * client and through three plain clients, alternating, against one emulator. Run once with no
 * added latency (the clients' own cost) and once with Wi-Fi-like latency.
 */

import {
  axiosClient,
  axiosKeepAliveClient,
  nodeHttpClient,
  ourClient,
  undiciClient,
  type BenchClient,
} from './clients';
import {
  alternate,
  medianOf,
  ms,
  printTable,
  ratio,
  summarize,
  type BenchOptions,
  type BenchResult,
  type Contender,
  type ContenderRun,
  type SummaryLine,
} from './harness';
import type { Emulator } from '../src/emulator/types';
import { latencyLabel, startBenchEmulator, WIFI_LATENCY_MS } from './setup';

/** Our median may be at most this many times bare node:http's. */
const TARGET_RATIO = 1.1;

/** Timeout of the plain clients; it only bounds the run, since no request here should fail. */
const PLAIN_TIMEOUT_MS = 5000;

interface Phase {
  latencyMs: number | [number, number];
  rounds: number;
  perRound: number;
}

function phases(options: BenchOptions): Phase[] {
  if (options.smoke) {
    return [
      { latencyMs: 0, rounds: 2, perRound: 5 },
      { latencyMs: WIFI_LATENCY_MS, rounds: 1, perRound: 1 },
    ];
  }
  return [
    { latencyMs: 0, rounds: 20, perRound: 50 },
    // 96 samples per client and operation: at 20-60 ms per request this phase takes about
    // 45 s with five clients.
    { latencyMs: WIFI_LATENCY_MS, rounds: 8, perRound: 12 },
  ];
}

type OperationKind = 'GET /json/state' | 'POST /json/state';

export async function runOverhead(options: BenchOptions): Promise<BenchResult> {
  const { emulator, profileNote } = await startBenchEmulator(undefined);
  const clients: BenchClient[] = [
    ourClient(emulator.url),
    nodeHttpClient(emulator.url, PLAIN_TIMEOUT_MS),
    undiciClient(emulator.url, PLAIN_TIMEOUT_MS),
    axiosClient(emulator.url, PLAIN_TIMEOUT_MS),
    axiosKeepAliveClient(emulator.url, PLAIN_TIMEOUT_MS),
  ];

  const summary: SummaryLine[] = [];
  const raw: unknown[] = [];
  try {
    for (const phase of phases(options)) {
      emulator.setLatency(phase.latencyMs);
      for (const kind of ['GET /json/state', 'POST /json/state'] as OperationKind[]) {
        const contenders = clients.map((client) => contenderFor(client, kind));
        await warmUp(contenders, options.smoke ? 2 : 20);

        const latency = pairedLatency(emulator, phase);
        const runs = await alternate(contenders, {
          rounds: phase.rounds,
          perRound: phase.perRound,
          beforeOperation: latency?.beforeOperation,
        });
        const title = `Overhead: sequential ${kind}, emulator latency ${latencyLabel(phase.latencyMs)} (${profileNote})`;
        summary.push(report(title, kind, phase, runs, latency?.drawsUsed));
        raw.push({ kind, latencyMs: phase.latencyMs, runs, drawsUsed: latency?.drawsUsed });
      }
    }
  } finally {
    for (const client of clients) {
      await client.close();
    }
    await emulator.close();
  }
  return { summary, raw };
}

interface PairedLatency {
  beforeOperation: (contender: Contender) => void;
  /** Latency set for each operation, in ms, in the order of each contender's samples. */
  drawsUsed: Map<string, number[]>;
}

/**
 * With a latency range, returns a hook that sets the emulator's latency before each request
 * from one list of draws that every contender walks through in the same order. Request k of
 * each client then waits the same time at the device, so the random latency does not add
 * noise to the ratios between clients.
 */
function pairedLatency(emulator: Emulator, phase: Phase): PairedLatency | undefined {
  const range = phase.latencyMs;
  if (typeof range === 'number') {
    return undefined;
  }
  const draws = Array.from({ length: phase.rounds * phase.perRound }, () =>
    Math.round(range[0] + Math.random() * (range[1] - range[0])),
  );
  const drawsUsed = new Map<string, number[]>();
  return {
    drawsUsed,
    beforeOperation: (contender) => {
      const used = drawsUsed.get(contender.name) ?? [];
      drawsUsed.set(contender.name, used);
      const draw = draws[used.length % draws.length];
      used.push(draw);
      emulator.setLatency(draw);
    },
  };
}

function contenderFor(client: BenchClient, kind: OperationKind): Contender {
  if (kind === 'GET /json/state') {
    return { name: client.name, operation: () => client.getState() };
  }
  // Brightness 1-255 in turn, so every write changes the state.
  let bri = 0;
  return {
    name: client.name,
    operation: () => {
      bri = (bri % 255) + 1;
      return client.setState({ bri });
    },
  };
}

/** Runs each contender a few times untimed, so JIT compilation and first connects are done. */
async function warmUp(contenders: Contender[], count: number): Promise<void> {
  for (const contender of contenders) {
    for (let i = 0; i < count; i += 1) {
      await contender.operation();
    }
  }
}

function report(
  title: string,
  kind: OperationKind,
  phase: Phase,
  runs: ContenderRun[],
  drawsUsed?: Map<string, number[]>,
): SummaryLine {
  const bare = summarize(runs[1].samples.map((sample) => sample.ms));
  const rows = runs.map((run) => {
    const stats = summarize(run.samples.map((sample) => sample.ms));
    const failures = run.samples.filter((sample) => !sample.ok).length;
    const perSecond = (run.samples.length / run.elapsedMs) * 1000;
    const row = [
      run.name,
      String(stats.count),
      String(failures),
      ms(stats.medianMs),
      ms(stats.p99Ms),
      perSecond.toFixed(0),
      ratio(stats.medianMs / bare.medianMs),
      ratio(stats.p99Ms / bare.p99Ms),
    ];
    if (drawsUsed !== undefined) {
      row.push(ms(medianAboveLatency(run, drawsUsed.get(run.name) ?? [])));
    }
    return row;
  });

  const header = [
    'client',
    'requests',
    'failed',
    'median ms',
    'p99 ms',
    'req/s',
    'median vs http',
    'p99 vs http',
  ];
  const notes = [`${phase.rounds} alternating rounds of ${phase.perRound} requests per client`];
  if (drawsUsed !== undefined) {
    header.push('median ms above latency');
    notes.push(
      'latency drawn per request, the same sequence of draws for every client',
      '"above latency": median over requests of (request time - latency drawn for it), the time the client and the emulator add',
    );
  }
  printTable(title, header, rows, notes);

  const ours = summarize(runs[0].samples.map((sample) => sample.ms));
  const value = ours.medianMs / bare.medianMs;
  return {
    benchmark: 'overhead',
    figure: `${kind} at ${latencyLabel(phase.latencyMs)}: our median / node:http median`,
    value: `${ratio(value)} (${ms(ours.medianMs)} vs ${ms(bare.medianMs)} ms)`,
    target: `<= ${TARGET_RATIO.toFixed(2)}x`,
    met: value <= TARGET_RATIO,
  };
}

/** Median of each request's time minus the emulator latency set for that request, in ms. */
function medianAboveLatency(run: ContenderRun, draws: number[]): number {
  if (draws.length !== run.samples.length) {
    return NaN;
  }
  return medianOf(run.samples.map((sample, k) => sample.ms - draws[k]));
}
