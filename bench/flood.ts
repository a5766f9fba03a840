/**
 * Flood: a burst of set-state messages injected as fast as possible into one set-state node
 * in a real Node-RED runtime, against an emulated WLED 0.15.3 ESP8266 with Wi-Fi-like
 * latency. The same burst through plain axios, all requests at once, is the comparison.
 * The two contenders alternate over several rounds, each round on a fresh emulator.
 */

import { performance } from 'node:perf_hooks';
import axios from 'axios';

import type { Emulator } from '../src/emulator/types';
import { DeviceClient } from '../src/lib/client';
import { isWledError } from '../src/lib/errors';
import { silentLogger } from './clients';
import {
  medianOf,
  ms,
  printTable,
  sleep,
  waitUntil,
  type BenchOptions,
  type BenchResult,
  type SummaryLine,
} from './harness';
import { getNode, loadFlow, startRuntime, unloadFlow, type FlowNode } from './nodered';
import { latencyLabel, startBenchEmulator, WIFI_LATENCY_MS } from './setup';

const PROFILE = '0.15.3-esp8266';

type Latency = number | [number, number];

/** Fixed latency of the timeline rounds, in ms: the middle of the Wi-Fi-like range. */
const TIMELINE_LATENCY_MS = 40;

/** Longest wait for all messages of one flood to complete, in ms; it only bounds the run. */
const FLOOD_DEADLINE_MS = 60000;

/** Timeout of each plain axios request, which has none by default; it only bounds the run. */
const AXIOS_TIMEOUT_MS = 10000;

/** Round trips the last value may take to reach the device. */
const TARGET_ROUND_TRIPS = 2;

interface FloodPatch extends Record<string, number> {
  bri: number;
  transition: number;
}

interface FloodRun {
  contender: string;
  messages: number;
  /** Requests the device received, and of those the GETs and POSTs by path. */
  requests: number;
  getsByPath: Record<string, number>;
  postsByPath: Record<string, number>;
  maxConcurrent: number;
  /** Messages that ended in an error (Catch node, or a rejected axios request). */
  errors: number;
  /** Requests answered 503 or not at all because the JSON buffer was busy. */
  busyReplies: number;
  /** From the last message until every message completed, in ms. */
  drainMs: number;
  /** From the last message until the device first applied a request of the flood, in ms. */
  firstChangeMs: number;
  /** From the last message until the device state showed it, in ms; NaN when it never did. */
  lastValueMs: number;
  finalIsLast: boolean;
  /** Time the injection loop took (the messages or requests it started), in ms. */
  injectMs: number;
  /** Error kinds of the failed messages, counted. */
  errorKinds: Record<string, number>;
}

/** Message `i` of a flood: brightness cycles 1-254 and `transition` is unique per message. */
function patchFor(i: number): FloodPatch {
  return { bri: 1 + (i % 254), transition: i };
}

function shows(emulator: Emulator, patch: FloodPatch): boolean {
  const state = emulator.device.snapshot().state;
  return state.bri === patch.bri && state.transition === patch.transition;
}

/**
 * Records when the device state first shows `patch`, from the model's change events (the
 * moment the firmware would have applied the POST).
 */
function watchFor(
  emulator: Emulator,
  patch: FloodPatch,
): { firstChangeAt: () => number; shownAt: () => number; stop: () => void } {
  let firstChangeAt = NaN;
  let shownAt = NaN;
  const stop = emulator.device.onChange(() => {
    if (Number.isNaN(firstChangeAt)) {
      firstChangeAt = performance.now();
    }
    if (Number.isNaN(shownAt) && shows(emulator, patch)) {
      shownAt = performance.now();
    }
  });
  return { firstChangeAt: () => firstChangeAt, shownAt: () => shownAt, stop };
}

type FloodWatch = ReturnType<typeof watchFor>;

/** Timings and outcome counts of one flood, which each contender measures its own way. */
interface FloodMeasures {
  errors: number;
  drainMs: number;
  injectMs: number;
  lastSentAt: number;
  errorKinds: Record<string, number>;
}

/** Assembles a contender's figures with the device's counters and what the watch saw. */
function floodRun(
  contender: string,
  messages: number,
  emulator: Emulator,
  watch: FloodWatch,
  last: FloodPatch,
  measures: FloodMeasures,
): FloodRun {
  const stats = emulator.stats();
  return {
    contender,
    messages,
    requests: stats.requests,
    getsByPath: stats.getsByPath,
    postsByPath: stats.postsByPath,
    maxConcurrent: stats.maxConcurrent,
    errors: measures.errors,
    busyReplies: stats.busyReplies,
    drainMs: measures.drainMs,
    firstChangeMs: watch.firstChangeAt() - measures.lastSentAt,
    lastValueMs: watch.shownAt() - measures.lastSentAt,
    finalIsLast: shows(emulator, last),
    injectMs: measures.injectMs,
    errorKinds: measures.errorKinds,
  };
}

function floodFlow(port: number): FlowNode[] {
  // Node-RED treats a node without x and y as a config node, so flow nodes get a position.
  const at = { x: 100, y: 100 };
  return [
    { id: 'tab', type: 'tab', label: 'flood' },
    // Timeouts and lane settings are the node's defaults, as a user would deploy it.
    { id: 'dev', type: 'wled-jsonapi-device', name: 'flooded device', host: `127.0.0.1:${port}` },
    {
      id: 'set',
      z: 'tab',
      type: 'wled-jsonapi-set-state',
      device: 'dev',
      wires: [['ok'], ['failed']],
      ...at,
    },
    { id: 'ok', z: 'tab', type: 'helper', ...at },
    { id: 'failed', z: 'tab', type: 'helper', ...at },
    {
      id: 'catch-all',
      z: 'tab',
      type: 'catch',
      scope: null,
      uncaught: false,
      wires: [['caught']],
      ...at,
    },
    { id: 'caught', z: 'tab', type: 'helper', ...at },
  ];
}

async function startFloodEmulator(
  latencyMs: Latency = WIFI_LATENCY_MS,
): Promise<{ emulator: Emulator; profileNote: string }> {
  return startBenchEmulator(PROFILE, { latencyMs });
}

/** Median time of one set-state message through the node when nothing else is queued. */
async function measureRoundTrip(count: number, latencyMs?: Latency): Promise<number> {
  const { emulator } = await startFloodEmulator(latencyMs);
  await loadFlow(floodFlow(emulator.port));
  try {
    const times: number[] = [];
    let outputs = 0;
    getNode('ok').on('input', () => {
      outputs += 1;
    });
    getNode('caught').on('input', () => {
      outputs += 1;
    });
    for (let i = 0; i < count; i += 1) {
      const start = performance.now();
      getNode('set').receive({ payload: patchFor(i) });
      await waitUntil(() => outputs > i, 10000);
      times.push(performance.now() - start);
    }
    return medianOf(times);
  } finally {
    await unloadFlow();
    await emulator.close();
  }
}

async function floodThroughNode(messages: number, latencyMs?: Latency): Promise<FloodRun> {
  const { emulator } = await startFloodEmulator(latencyMs);
  await loadFlow(floodFlow(emulator.port));
  try {
    let ok = 0;
    let failed = 0;
    const errorKinds: Record<string, number> = {};
    getNode('ok').on('input', () => {
      ok += 1;
    });
    getNode('caught').on('input', () => {
      failed += 1;
    });
    // Output 2 carries the error class of each failed request (and connection state changes).
    getNode('failed').on('input', (msg) => {
      const payload = msg.payload as { event?: string; errorClass?: string };
      if (payload.event === 'request-failed') {
        const kind = payload.errorClass ?? 'unknown';
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
    });

    // One message first, so the device node has made its first contact (a GET /json/info)
    // as it has in a flow that has been running for a while.
    const setNode = getNode('set');
    setNode.receive({ payload: { on: true } });
    await waitUntil(() => ok + failed >= 1, FLOOD_DEADLINE_MS);
    ok = 0;
    failed = 0;
    clearCounts(errorKinds);

    const last = patchFor(messages - 1);
    const watch = watchFor(emulator, last);
    emulator.resetStats();

    const injectStart = performance.now();
    for (let i = 0; i < messages; i += 1) {
      setNode.receive({ payload: patchFor(i) });
    }
    const lastSentAt = performance.now();

    await waitUntil(() => ok + failed >= messages, FLOOD_DEADLINE_MS);
    const drainMs = performance.now() - lastSentAt;
    watch.stop();

    return floodRun(NODE_FLOOD, messages, emulator, watch, last, {
      errors: failed + (messages - ok - failed),
      drainMs,
      injectMs: lastSentAt - injectStart,
      lastSentAt,
      errorKinds,
    });
  } finally {
    await unloadFlow();
    await emulator.close();
  }
}

async function floodThroughAxios(messages: number, latencyMs?: Latency): Promise<FloodRun> {
  const { emulator } = await startFloodEmulator(latencyMs);
  try {
    const url = `${emulator.url}/json/state`;
    const last = patchFor(messages - 1);
    const watch = watchFor(emulator, last);
    emulator.resetStats();

    const injectStart = performance.now();
    const requests: Array<Promise<unknown>> = [];
    for (let i = 0; i < messages; i += 1) {
      requests.push(axios.post(url, patchFor(i), { timeout: AXIOS_TIMEOUT_MS }));
    }
    const lastSentAt = performance.now();
    const injectMs = lastSentAt - injectStart;

    const outcomes = await Promise.allSettled(requests);
    const drainMs = performance.now() - lastSentAt;
    watch.stop();

    const errorKinds: Record<string, number> = {};
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        const kind = describeAxiosError(outcome.reason);
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
    }
    // Sockets the emulator still holds (ones the client gave up on) must not leak into the
    // next round's figures; the emulator closes with the round.
    return floodRun(AXIOS_FLOOD, messages, emulator, watch, last, {
      errors: outcomes.filter((outcome) => outcome.status === 'rejected').length,
      drainMs,
      injectMs,
      lastSentAt,
      errorKinds,
    });
  } finally {
    await emulator.close();
  }
}

/**
 * The same flood straight into a `DeviceClient` with the device node's default settings,
 * without Node-RED: it separates the runtime's share of the time from the client's.
 */
async function floodThroughClient(messages: number, latencyMs?: Latency): Promise<FloodRun> {
  const { emulator } = await startFloodEmulator(latencyMs);
  const client = new DeviceClient({
    name: 'flooded device',
    baseUrl: emulator.url,
    logger: silentLogger,
  });
  try {
    // First contact (a GET /json/info) before the flood, as in the node flood.
    await client.setState({ on: true });

    const last = patchFor(messages - 1);
    const watch = watchFor(emulator, last);
    emulator.resetStats();

    let ok = 0;
    let failed = 0;
    const errorKinds: Record<string, number> = {};
    const onFailure = (error: unknown): void => {
      failed += 1;
      const kind = isWledError(error) ? error.errorClass : 'unknown';
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    };

    const injectStart = performance.now();
    for (let i = 0; i < messages; i += 1) {
      client.setState(patchFor(i)).then(() => {
        ok += 1;
      }, onFailure);
    }
    const lastSentAt = performance.now();

    await waitUntil(() => ok + failed >= messages, FLOOD_DEADLINE_MS);
    const drainMs = performance.now() - lastSentAt;
    watch.stop();

    return floodRun(CLIENT_FLOOD, messages, emulator, watch, last, {
      errors: failed + (messages - ok - failed),
      drainMs,
      injectMs: lastSentAt - injectStart,
      lastSentAt,
      errorKinds,
    });
  } finally {
    await client.close();
    await emulator.close();
  }
}

function describeAxiosError(reason: unknown): string {
  if (axios.isAxiosError(reason)) {
    if (reason.response !== undefined) {
      return `HTTP ${reason.response.status}`;
    }
    return reason.code ?? 'network error';
  }
  return 'other';
}

const NODE_FLOOD = 'ours: set-state node';
const CLIENT_FLOOD = 'ours: DeviceClient, no Node-RED';
const AXIOS_FLOOD = 'plain axios, all at once';

/** The contenders, in the order of the table. */
const FLOODS = [floodThroughNode, floodThroughClient, floodThroughAxios];
const CONTENDERS = [NODE_FLOOD, CLIENT_FLOOD, AXIOS_FLOOD];

export async function runFlood(options: BenchOptions): Promise<BenchResult> {
  const messages = options.smoke ? 50 : 1000;
  const rounds = options.smoke ? 1 : 5;
  await startRuntime();

  const { emulator: probe, profileNote } = await startFloodEmulator();
  await probe.close();

  const roundTripMs = await measureRoundTrip(options.smoke ? 3 : 40);
  const runs: FloodRun[] = [];
  for (let round = 0; round < rounds; round += 1) {
    // The starting contender rotates between rounds.
    for (let step = 0; step < FLOODS.length; step += 1) {
      const flood = FLOODS[(round + step) % FLOODS.length];
      runs.push(await flood(messages));
      // Lets sockets from the round close before the next one starts.
      await sleep(100);
    }
  }

  const timeline = await runTimeline(options, messages);
  return report(runs, { messages, rounds, roundTripMs, profileNote }, timeline);
}

interface Timeline {
  roundTripMs: number;
  rounds: number;
  runs: FloodRun[];
}

/**
 * The node flood and the client flood again at a fixed latency, where the time a request
 * reached the device is its apply time minus that latency. It shows where the time between
 * the last message and the last value goes.
 */
async function runTimeline(options: BenchOptions, messages: number): Promise<Timeline> {
  const rounds = options.smoke ? 1 : 5;
  const roundTripMs = await measureRoundTrip(options.smoke ? 3 : 20, TIMELINE_LATENCY_MS);
  const runs: FloodRun[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const floods =
      round % 2 === 0
        ? [floodThroughNode, floodThroughClient]
        : [floodThroughClient, floodThroughNode];
    for (const flood of floods) {
      runs.push(await flood(messages, TIMELINE_LATENCY_MS));
      await sleep(100);
    }
  }
  return { roundTripMs, rounds, runs };
}

function reportTimeline(timeline: Timeline, messages: number): void {
  const rows = [NODE_FLOOD, CLIENT_FLOOD].map((contender) => {
    const mine = timeline.runs.filter((run) => run.contender === contender);
    const firstApplied = medianOf(mine.map((run) => run.firstChangeMs));
    const lastValue = medianOf(mine.map((run) => run.lastValueMs));
    return [
      contender,
      ms(medianOf(mine.map((run) => run.injectMs))),
      ms(firstApplied - TIMELINE_LATENCY_MS),
      ms(firstApplied),
      ms(lastValue - TIMELINE_LATENCY_MS),
      ms(lastValue),
      `${(lastValue / timeline.roundTripMs).toFixed(2)}`,
    ];
  });
  printTable(
    `Flood timeline: ${messages} messages at a fixed latency of ${TIMELINE_LATENCY_MS} ms`,
    [
      'contender',
      'send loop ms',
      'first request at device',
      'first applied',
      'last request at device',
      'last value applied',
      'last value in round trips',
    ],
    rows,
    [
      `${timeline.rounds} rounds per contender, medians; times in ms from the end of the send loop`,
      `"at device" = applied minus the ${TIMELINE_LATENCY_MS} ms latency, which the emulator adds before it applies a request`,
      `one uncontended set-state round trip through the node: ${ms(timeline.roundTripMs)} ms (median)`,
    ],
  );
}

interface FloodSetting {
  messages: number;
  rounds: number;
  roundTripMs: number;
  profileNote: string;
}

function report(runs: FloodRun[], setting: FloodSetting, timeline: Timeline): BenchResult {
  const contenders = CONTENDERS.filter((contender) =>
    runs.some((run) => run.contender === contender),
  );
  const rows = contenders.map((contender) => {
    const mine = runs.filter((run) => run.contender === contender);
    const errorKinds = mergeCounts(mine.map((run) => run.errorKinds));
    return [
      contender,
      String(medianOf(mine.map((run) => run.requests))),
      String(Math.max(...mine.map((run) => run.maxConcurrent))),
      `${sum(mine.map((run) => run.errors))}${describeCounts(errorKinds)}`,
      String(sum(mine.map((run) => run.busyReplies))),
      ms(medianOf(mine.map((run) => run.injectMs))),
      ms(medianOf(mine.map((run) => run.drainMs))),
      describeLastValue(mine),
      `${mine.filter((run) => run.finalIsLast).length}/${mine.length}`,
    ];
  });

  printTable(
    `Flood: ${setting.messages} set-state messages at once, ${setting.profileNote}, latency ${latencyLabel(WIFI_LATENCY_MS)}`,
    [
      'contender',
      'requests at device (median)',
      'max concurrent',
      'errors (all rounds)',
      'busy replies',
      'send loop ms',
      'all done ms',
      'last value ms (median, worst)',
      'final = last',
    ],
    rows,
    [
      `${setting.rounds} rounds, contenders alternating, a fresh emulator per round`,
      `one uncontended set-state round trip through the node: ${ms(setting.roundTripMs)} ms (median)`,
      'times are medians over the rounds, in ms from the end of the send loop, except "send loop" (its duration)',
      '"last value": the device state first shows the last message; "all done": every message has completed',
    ],
  );

  const ours = runs.filter((run) => run.contender === NODE_FLOOD);
  const lastValues = ours.map((run) =>
    Number.isNaN(run.lastValueMs) ? Infinity : run.lastValueMs,
  );
  const medianLastValue = medianOf(lastValues);
  const worstLastValue = Math.max(...lastValues);
  const limitMs = TARGET_ROUND_TRIPS * setting.roundTripMs;
  const limitText = `${TARGET_ROUND_TRIPS} median round trips = ${ms(limitMs)} ms`;
  const timelineLastValue = medianOf(
    timeline.runs.filter((run) => run.contender === NODE_FLOOD).map((run) => run.lastValueMs),
  );
  const timelineRoundTrips = timelineLastValue / timeline.roundTripMs;
  const summary: SummaryLine[] = [
    {
      benchmark: 'flood',
      figure: 'errors in the node flood (all rounds)',
      value: String(sum(ours.map((run) => run.errors))),
      target: '0',
      met: ours.every((run) => run.errors === 0),
    },
    {
      benchmark: 'flood',
      figure: 'max requests at the device at once',
      value: String(Math.max(...ours.map((run) => run.maxConcurrent))),
      target: '<= 1',
      met: ours.every((run) => run.maxConcurrent <= 1),
    },
    {
      benchmark: 'flood',
      figure: 'final state is the last message',
      value: `${ours.filter((run) => run.finalIsLast).length}/${ours.length} rounds`,
      target: 'every round',
      met: ours.every((run) => run.finalIsLast),
    },
    {
      benchmark: 'flood',
      figure: `last value after the last message, fixed ${TIMELINE_LATENCY_MS} ms latency (median round)`,
      value: `${timelineRoundTrips.toFixed(2)} round trips (${ms(timelineLastValue)} ms, 1 round trip = ${ms(timeline.roundTripMs)} ms)`,
      target: `<= ${TARGET_ROUND_TRIPS} round trips`,
      met: timelineRoundTrips <= TARGET_ROUND_TRIPS,
    },
    {
      // With a latency drawn per request "a round trip" varies from request to request, so
      // this line compares with the median round trip and carries no verdict.
      benchmark: 'flood',
      figure: `last value after the last message, ${latencyLabel(WIFI_LATENCY_MS)} latency (median, worst round)`,
      value: `${ms(medianLastValue)} ms, ${ms(worstLastValue)} ms (${limitText})`,
    },
    {
      benchmark: 'flood',
      figure: 'requests at the device per node flood (median)',
      value: String(medianOf(ours.map((run) => run.requests))),
    },
  ];
  reportTimeline(timeline, setting.messages);
  return { summary, raw: { setting, runs, timeline } };
}

function describeLastValue(runs: FloodRun[]): string {
  const values = runs.map((run) => run.lastValueMs);
  const never = values.filter((value) => Number.isNaN(value)).length;
  const shown = values.filter((value) => !Number.isNaN(value));
  if (shown.length === 0) {
    return 'never';
  }
  const text = `${ms(medianOf(shown))}, ${ms(Math.max(...shown))}`;
  return never === 0 ? text : `${text} (never in ${never} rounds)`;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function mergeCounts(counts: Array<Record<string, number>>): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const count of counts) {
    for (const [key, value] of Object.entries(count)) {
      merged[key] = (merged[key] ?? 0) + value;
    }
  }
  return merged;
}

function clearCounts(counts: Record<string, number>): void {
  for (const key of Object.keys(counts)) {
    delete counts[key];
  }
}

function describeCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0
    ? ''
    : ` (${entries.map(([key, value]) => `${key} ${value}`).join(', ')})`;
}
