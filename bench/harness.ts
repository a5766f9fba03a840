/**
 * The pieces every benchmark shares: contenders run in alternating rounds, summary
 * statistics (median, p99), table output and the options of `npm run bench`.
 */

import { performance } from 'node:perf_hooks';

export interface BenchOptions {
  /** Tiny counts so that the whole run measures for about two seconds (CI). */
  smoke: boolean;
}

/** One figure of the final summary, with its target when the issue sets one. */
export interface SummaryLine {
  benchmark: string;
  figure: string;
  value: string;
  target?: string;
  /** Whether the figure meets its target; undefined when there is no target. */
  met?: boolean;
}

export interface BenchResult {
  summary: SummaryLine[];
  /** Raw figures for `--json`. */
  raw: unknown;
}

/** One timed operation of a contender. Resolves true when it succeeded. */
export type Operation = () => Promise<boolean>;

export interface Contender {
  name: string;
  operation: Operation;
}

export interface Sample {
  ms: number;
  ok: boolean;
}

export interface ContenderRun {
  name: string;
  samples: Sample[];
  /** Time spent in this contender's operations, in milliseconds (pauses excluded). */
  elapsedMs: number;
}

export interface AlternateOptions {
  rounds: number;
  /** Sequential operations per contender in each round. */
  perRound: number;
  /** Called once before each contender's block, outside the timing (to reset a fault). */
  beforeBlock?: (contender: Contender) => Promise<void> | void;
  /** Called before each operation, outside the timing (a pause, a latency setting). */
  beforeOperation?: (contender: Contender) => Promise<void> | void;
}

/**
 * Runs the contenders in round-robin rounds: in round r each contender runs `perRound`
 * sequential operations, and the starting contender rotates with r. Slow phases of the
 * machine (another process, a GC) then fall on every contender alike.
 */
export async function alternate(
  contenders: Contender[],
  options: AlternateOptions,
): Promise<ContenderRun[]> {
  const runs = contenders.map((contender) => ({
    name: contender.name,
    samples: [] as Sample[],
    elapsedMs: 0,
  }));

  for (let round = 0; round < options.rounds; round += 1) {
    for (let step = 0; step < contenders.length; step += 1) {
      const index = (round + step) % contenders.length;
      const contender = contenders[index];
      await options.beforeBlock?.(contender);

      for (let i = 0; i < options.perRound; i += 1) {
        await options.beforeOperation?.(contender);
        const start = performance.now();
        runs[index].samples.push(await timeOperation(contender.operation));
        runs[index].elapsedMs += performance.now() - start;
      }
    }
  }
  return runs;
}

/** Times one operation; a thrown error counts as a failed sample. */
export async function timeOperation(operation: Operation): Promise<Sample> {
  const start = performance.now();
  let ok: boolean;
  try {
    ok = await operation();
  } catch {
    ok = false;
  }
  return { ms: performance.now() - start, ok };
}

export interface Summary {
  count: number;
  medianMs: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

/** Median, p99 (nearest rank), mean and max of a list of milliseconds. */
export function summarize(values: number[]): Summary {
  if (values.length === 0) {
    return { count: 0, medianMs: NaN, p99Ms: NaN, meanMs: NaN, maxMs: NaN };
  }
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    medianMs: median(sorted),
    p99Ms: percentile(sorted, 99),
    meanMs: sum / sorted.length,
    maxMs: sorted[sorted.length - 1],
  };
}

/** Median of an ascending list (mean of the middle two for an even count). */
export function median(sorted: number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile of an ascending list: with fewer than 100 values p99 is the max. */
export function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Median of an unsorted list. */
export function medianOf(values: number[]): number {
  return values.length === 0 ? NaN : median([...values].sort((a, b) => a - b));
}

// ---------------------------------------------------------------------------------------
// Output

export function ms(value: number): string {
  if (!Number.isFinite(value)) {
    return '-';
  }
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : '-';
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;
}

export function bytes(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1024 * 1024) {
    return `${(value / (1024 * 1024)).toFixed(1)} MiB`;
  }
  if (abs >= 1024) {
    return `${(value / 1024).toFixed(1)} KiB`;
  }
  return `${value.toFixed(0)} B`;
}

/**
 * Prints a titled table with columns padded to their widest cell. Columns are right-aligned
 * except the first and those listed in `textColumns`.
 */
export function printTable(
  title: string,
  header: string[],
  rows: string[][],
  notes: string[] = [],
  textColumns: number[] = [],
): void {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const leftAligned = new Set([0, ...textColumns]);
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        leftAligned.has(column) ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
      )
      .join('  ')
      .trimEnd();

  console.log(`\n## ${title}`);
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) {
    console.log(line(row));
  }
  for (const note of notes) {
    console.log(`  ${note}`);
  }
}

/** Resolves after `delayMs` milliseconds. */
export function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

/** Polls `check` every 5 ms until it is true; resolves false when `timeoutMs` passes first. */
export async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) {
      return false;
    }
    await sleep(5);
  }
  return true;
}
