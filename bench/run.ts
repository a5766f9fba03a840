/**
 * Entry point of `npm run bench`: runs the benchmarks against emulators on 127.0.0.1, prints
 * one table per comparison and a summary against the targets.
 *
 * Options:
 *   --smoke          tiny counts, about two seconds of measuring (CI); exits 0 whenever the
 *                    script works, whatever the figures
 *   --only NAME      run one benchmark: overhead, flood, scale or faults (may be repeated or
 *                    given as a comma-separated list)
 *   --json FILE      also write the raw figures to FILE
 */

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

import { runFaults } from './faults';
import { runFlood } from './flood';
import { printTable, type BenchOptions, type BenchResult, type SummaryLine } from './harness';
import { stopRuntime } from './nodered';
import { runOverhead } from './overhead';
import { runScale } from './scale';
import { repoRoot } from './setup';

const BENCHMARKS: Record<string, (options: BenchOptions) => Promise<BenchResult>> = {
  overhead: runOverhead,
  flood: runFlood,
  scale: runScale,
  faults: runFaults,
};

const USAGE = `usage: tsx bench/run.ts [--smoke] [--only ${Object.keys(BENCHMARKS).join('|')}] [--json FILE]`;

/** A wrong command line: reported without a stack trace. */
class UsageError extends Error {}

interface CommandLine {
  options: BenchOptions;
  only: string[];
  jsonFile?: string;
}

function parseArguments(args: string[]): CommandLine {
  const line: CommandLine = { options: { smoke: false }, only: [] };
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--smoke') {
      line.options.smoke = true;
    } else if (arg === '--only' || arg === '--json') {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new UsageError(`${arg} needs a value\n${USAGE}`);
      }
      i += 1;
      if (arg === '--json') {
        line.jsonFile = value;
      } else {
        line.only.push(...value.split(',').filter((name) => name !== ''));
      }
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      throw new UsageError(`unknown option ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }

  for (const name of line.only) {
    if (!(name in BENCHMARKS)) {
      throw new UsageError(
        `unknown benchmark ${JSON.stringify(name)}; expected one of ${Object.keys(BENCHMARKS).join(', ')}`,
      );
    }
  }
  return line;
}

/** Commit, machine and runtime, printed with every run so figures can be traced. */
function describeMachine(): Record<string, string> {
  let commit = 'unknown';
  let dirty = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).trim();
    const status = execFileSync('git', ['status', '--porcelain'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    dirty = status.trim() === '' ? '' : ' (with uncommitted changes)';
  } catch {
    // Not a git checkout (a packed tarball): the commit stays unknown.
  }

  return {
    commit: `${commit}${dirty}`,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism()} cores available`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    // Other processes on the machine slow every contender alike, but they make the absolute
    // figures (requests per second) lower than on an idle machine.
    'load average at start': os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(', '),
  };
}

function printSummary(lines: SummaryLine[]): void {
  const rows = lines.map((line) => [
    line.benchmark,
    line.figure,
    line.value,
    line.target ?? '',
    line.met === undefined ? '' : line.met ? 'met' : 'MISSED',
  ]);
  printTable(
    'Summary',
    ['benchmark', 'figure', 'value', 'target', 'result'],
    rows,
    [],
    [1, 2, 3, 4],
  );
}

async function main(): Promise<void> {
  const line = parseArguments(process.argv.slice(2));
  const names = line.only.length > 0 ? [...new Set(line.only)] : Object.keys(BENCHMARKS);
  const machine = describeMachine();

  console.log(
    `# WLED JSON API benchmarks${line.options.smoke ? ' (smoke pass: tiny counts, figures not meaningful)' : ''}`,
  );
  for (const [key, value] of Object.entries(machine)) {
    console.log(`${key}: ${value}`);
  }

  const started = performance.now();
  const summary: SummaryLine[] = [];
  const raw: Record<string, unknown> = {};
  for (const name of names) {
    const result = await BENCHMARKS[name](line.options);
    summary.push(...result.summary);
    raw[name] = result.raw;
  }
  await stopRuntime();
  printSummary(summary);
  console.log(`\ntotal time: ${((performance.now() - started) / 1000).toFixed(1)} s`);

  if (line.jsonFile !== undefined) {
    const document = {
      date: new Date().toISOString(),
      smoke: line.options.smoke,
      machine,
      summary,
      raw,
    };
    fs.writeFileSync(line.jsonFile, `${JSON.stringify(document, null, 2)}\n`);
    console.log(`raw figures written to ${line.jsonFile}`);
  }
}

// process.exit also ends what the Node-RED runtime may leave running after a failure.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
