import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { isWledError } from '../../src/lib/errors';

/** Captured device responses, kept outside the repository next to it. */
export const FIXTURES_DIR = path.join(__dirname, '..', '..', '..', 'shared', 'wled-fixtures');

export const FIXTURE_PROFILES = fs.existsSync(FIXTURES_DIR)
  ? fs
      .readdirSync(FIXTURES_DIR)
      .filter((name) => fs.existsSync(path.join(FIXTURES_DIR, name, 'eff.json')))
      .sort()
  : [];

/** Reads a fixture JSON file, or returns undefined when it is absent. */
export function readFixture<T>(profile: string, file: string): T | undefined {
  const filePath = path.join(FIXTURES_DIR, profile, file);
  if (!fs.existsSync(filePath)) {
    return undefined;
  }
  return JSON.parse(fs.readFileSync(filePath, 'utf8')) as T;
}

/**
 * Asserts that `run` throws an invalid-input WledError whose message contains each of
 * `fragments` (typically the rejected value and the accepted form).
 */
export function assertInvalidInput(run: () => unknown, ...fragments: string[]): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, 'expected an error, but none was thrown');
  assert.ok(isWledError(thrown), `expected a WledError, got ${String(thrown)}`);
  assert.equal(thrown.errorClass, 'invalid-input');
  for (const fragment of fragments) {
    assert.ok(
      thrown.message.includes(fragment),
      `message ${JSON.stringify(thrown.message)} lacks ${JSON.stringify(fragment)}`,
    );
  }
}
