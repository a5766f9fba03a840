/**
 * Cost of faults: the per-request workload (GET /json/state and set-state POSTs in turn)
 * while the emulator breaks every third request with one fault class, through our client
 * and through plain axios. Reports the success rate and the latency the fault adds compared
 * with the same client's requests on a healthy emulator.
 */

import type { FaultSpec } from '../src/emulator/types';
import { axiosClient, ourClient, type BenchClient } from './clients';
import {
  alternate,
  ms,
  percent,
  printTable,
  sleep,
  summarize,
  waitUntil,
  type BenchOptions,
  type BenchResult,
  type Contender,
  type SummaryLine,
} from './harness';
import { startBenchEmulator } from './setup';

/** Our client's limits for this benchmark, in ms: short, so that timeouts cost little time. */
const TIMEOUTS = { connectMs: 500, responseMs: 1000, totalMs: 3000 };

/** axios gets our response limit as its whole-request timeout. */
const AXIOS_TIMEOUT_MS = TIMEOUTS.responseMs;

/** Every FAULT_EVERY-th request of a block (the first, the fourth, ...) gets the fault. */
const FAULT_EVERY = 3;

interface Scenario {
  name: string;
  /** What the device does, in the words of the error taxonomy. */
  description: string;
  /** Injected for one request before every FAULT_EVERY-th request. */
  perRequest?: FaultSpec;
  /** Injected for a whole block (connection behaviour). */
  mode?: FaultSpec;
  /** Untimed pause before each request, in ms, drawn from [min, max]. */
  pauseMs?: [number, number];
  /** Part of the smoke pass. */
  smoke?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'none', description: 'healthy device (baseline)', smoke: true },
  {
    name: 'silent-close',
    description: 'stale: response without Connection header, then the device closes the socket',
    mode: { kind: 'silent-close' },
    smoke: true,
  },
  {
    name: 'keep-alive-idle',
    description: 'stale: a proxy closes idle sockets after 50 ms, requests come 45-55 ms apart',
    mode: { kind: 'keep-alive-idle', delayMs: 50 },
    pauseMs: [45, 55],
  },
  {
    name: 'busy',
    description: 'overloaded: 503 {"error":3} with Retry-After: 1',
    perRequest: { kind: 'busy' },
  },
  {
    name: 'reset-before-response',
    description: 'dropped: connection reset before any response byte',
    perRequest: { kind: 'reset-before-response' },
    smoke: true,
  },
  {
    name: 'reset-after-headers',
    description: 'truncated: reset after the headers',
    perRequest: { kind: 'reset-after-headers' },
  },
  {
    name: 'short-body-fin',
    description: 'truncated: half the body, then FIN',
    perRequest: { kind: 'short-body-fin' },
  },
  {
    name: 'short-body-rst',
    description: 'truncated: half the body, then RST',
    perRequest: { kind: 'short-body-rst' },
  },
  {
    name: 'cut-json',
    description: 'invalid response: complete HTTP body that is cut-off JSON',
    perRequest: { kind: 'cut-json' },
    smoke: true,
  },
  {
    name: 'html-error',
    description: 'invalid response: an HTML page with status 200',
    perRequest: { kind: 'html-error' },
  },
  {
    name: 'padded-chunks',
    description: 'chunk sizes padded with spaces, as some device web servers send them',
    perRequest: { kind: 'padded-chunks' },
  },
  {
    name: 'delay-headers',
    description: 'slow: headers 300 ms late, inside the response timeout',
    perRequest: { kind: 'delay-headers', delayMs: 300 },
  },
  {
    name: 'never-answer',
    description: `timeout: no answer at all (response timeout ${TIMEOUTS.responseMs} ms)`,
    perRequest: { kind: 'never-answer' },
  },
  {
    name: 'refuse-connections',
    description: 'unreachable: one connection refused',
    perRequest: { kind: 'refuse-connections', count: 1 },
  },
];

interface ScenarioResult {
  scenario: string;
  contender: string;
  requests: number;
  succeeded: number;
  faultedRequests: number;
  faultedSucceeded: number;
  medianMs: number;
  p99Ms: number;
  /** Median of the requests that had the fault injected. */
  faultedMedianMs: number;
  retries?: number;
  failuresByClass?: Record<string, number>;
}

export async function runFaults(options: BenchOptions): Promise<BenchResult> {
  const scenarios = options.smoke ? SCENARIOS.filter((scenario) => scenario.smoke) : SCENARIOS;
  const rounds = options.smoke ? 1 : 3;
  const perRound = options.smoke ? 3 : 12;
  const { emulator, profileNote } = await startBenchEmulator(undefined);

  const results: ScenarioResult[] = [];
  try {
    for (const scenario of scenarios) {
      // A fresh client per scenario, so that one fault's connection state (degraded,
      // backoff) does not carry into the next.
      const ours = ourClient(emulator.url, TIMEOUTS);
      const clients: BenchClient[] = [ours, axiosClient(emulator.url, AXIOS_TIMEOUT_MS)];
      const faultedFlags = clients.map(() => [] as boolean[]);

      const contenders: Contender[] = clients.map((client, index) => {
        let call = 0;
        return {
          name: client.name,
          operation: async () => {
            const position = call % perRound;
            call += 1;
            const faulted = scenario.perRequest !== undefined && position % FAULT_EVERY === 0;
            faultedFlags[index].push(faulted);
            return runRequest(client, position, faulted);
          },
        };
      });

      // Injections happen inside the timed operation, but they are synchronous calls on the
      // emulator in this process and cost microseconds.
      async function runRequest(
        client: BenchClient,
        position: number,
        faulted: boolean,
      ): Promise<boolean> {
        if (faulted && scenario.perRequest !== undefined) {
          emulator.inject({ count: 1, ...scenario.perRequest });
        }
        return position % 2 === 0
          ? client.getState()
          : client.setState({ bri: 1 + (position % 254) });
      }

      const pausing = scenario.pauseMs;
      const runs = await alternate(contenders, {
        rounds,
        perRound,
        beforeBlock: async () => {
          emulator.clearFaults();
          await waitUntil(() => emulator.stats().current === 0, 5000);
          if (scenario.mode !== undefined) {
            emulator.inject(scenario.mode);
          }
        },
        beforeOperation: pausing === undefined ? undefined : () => sleep(between(pausing)),
      });
      emulator.clearFaults();

      runs.forEach((run, index) => {
        const flags = faultedFlags[index];
        const stats = summarize(run.samples.map((sample) => sample.ms));
        const faulted = run.samples.filter((_, k) => flags[k]);
        const result: ScenarioResult = {
          scenario: scenario.name,
          contender: run.name,
          requests: run.samples.length,
          succeeded: run.samples.filter((sample) => sample.ok).length,
          faultedRequests: faulted.length,
          faultedSucceeded: faulted.filter((sample) => sample.ok).length,
          medianMs: stats.medianMs,
          p99Ms: stats.p99Ms,
          faultedMedianMs: summarize(faulted.map((sample) => sample.ms)).medianMs,
        };
        if (index === 0) {
          const clientStats = ours.client.stats();
          result.retries = clientStats.retries;
          result.failuresByClass = clientStats.failuresByClass as Record<string, number>;
        }
        results.push(result);
      });

      for (const client of clients) {
        await client.close();
      }
    }
  } finally {
    await emulator.close();
  }

  return report(results, { rounds, perRound, profileNote });
}

function signed(value: number): string {
  return value < 0 ? `-${ms(-value)}` : `+${ms(value)}`;
}

function between([min, max]: [number, number]): number {
  return min + Math.random() * (max - min);
}

function report(
  results: ScenarioResult[],
  setting: { rounds: number; perRound: number; profileNote: string },
): BenchResult {
  const baseline = new Map(
    results
      .filter((result) => result.scenario === 'none')
      .map((result) => [result.contender, result]),
  );
  const contenders = [...new Set(results.map((result) => result.contender))];

  const rows: string[][] = [];
  for (const scenario of [...new Set(results.map((result) => result.scenario))]) {
    for (const contender of contenders) {
      const result = results.find(
        (entry) => entry.scenario === scenario && entry.contender === contender,
      );
      if (result === undefined) {
        continue;
      }
      const base = baseline.get(contender);
      const added = (value: number, reference: number | undefined): string =>
        reference === undefined || !Number.isFinite(value) ? '-' : signed(value - reference);
      rows.push([
        scenario,
        contender,
        percent(result.succeeded, result.requests),
        result.faultedRequests === 0 ? '-' : `${result.faultedSucceeded}/${result.faultedRequests}`,
        ms(result.medianMs),
        ms(result.p99Ms),
        added(result.faultedMedianMs, base?.medianMs),
        added(result.p99Ms, base?.p99Ms),
        result.retries === undefined ? '' : String(result.retries),
        describeClasses(result.failuresByClass),
      ]);
    }
  }

  printTable(
    `Cost of faults: every ${FAULT_EVERY}rd request faulted, emulator latency 0 ms (${setting.profileNote})`,
    [
      'fault',
      'client',
      'success',
      'faulted ok',
      'median ms',
      'p99 ms',
      'faulted median added',
      'p99 added',
      'retries',
      'failed attempts by class',
    ],
    rows,
    [
      `${setting.rounds} alternating rounds of ${setting.perRound} requests per client and fault; GET and POST in turn`,
      `our client: connect ${TIMEOUTS.connectMs} ms, response ${TIMEOUTS.responseMs} ms, total ${TIMEOUTS.totalMs} ms; axios: timeout ${AXIOS_TIMEOUT_MS} ms`,
      '"added" is compared with the same client on the healthy device; mode faults (stale) apply to every request',
      ...SCENARIOS.filter((scenario) =>
        results.some((result) => result.scenario === scenario.name),
      ).map((scenario) => `${scenario.name}: ${scenario.description}`),
    ],
    [1, 9],
  );

  const ours = results.filter(
    (result) => result.contender === contenders[0] && result.scenario !== 'none',
  );
  const summary: SummaryLine[] = [
    {
      benchmark: 'faults',
      figure: 'our success rate over all fault scenarios',
      value: percent(
        ours.reduce((total, result) => total + result.succeeded, 0),
        ours.reduce((total, result) => total + result.requests, 0),
      ),
    },
  ];
  const theirs = results.filter(
    (result) => result.contender === contenders[1] && result.scenario !== 'none',
  );
  if (theirs.length > 0) {
    summary.push({
      benchmark: 'faults',
      figure: 'plain axios success rate over all fault scenarios',
      value: percent(
        theirs.reduce((total, result) => total + result.succeeded, 0),
        theirs.reduce((total, result) => total + result.requests, 0),
      ),
    });
  }
  return { summary, raw: { setting, timeouts: TIMEOUTS, results } };
}

function describeClasses(counts: Record<string, number> | undefined): string {
  if (counts === undefined) {
    return '';
  }
  const entries = Object.entries(counts);
  return entries.length === 0 ? '-' : entries.map(([key, value]) => `${key} ${value}`).join(', ');
}
