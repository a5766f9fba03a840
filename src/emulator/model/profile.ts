/**
 * Device profiles: the built-in one and captured ones read from a folder laid out like the
 * shared WLED fixtures (`state.json`, `info.json`, `eff.json`, `pal.json`, `fxdata.json`,
 * `palx/page-N.json`, and `presets.json` in the folder or `../common/presets.json` beside it).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';

import type { BusyBehaviour, FirmwareLine, ProfileInfo } from '../types';
import { BUILTIN_PROFILE } from '../profiles/builtin';

export type JsonObject = Record<string, unknown>;

/** Everything a device model needs to start: initial documents and the fixed lists. */
export interface LoadedProfile {
  info: ProfileInfo;
  /** Initial state; its key order (and that of its first segment) is the response order. */
  state: JsonObject;
  /** Initial info; its key order is the response order. */
  infoDoc: JsonObject;
  /** Effect names, index = effect id (`RSVD` for unused ids). */
  effects: string[];
  /** Exact body of `/json/eff` (raw text with newlines on 0.13). */
  effectsText: string;
  /** Built-in palette names, index = palette id. */
  palettes: string[];
  /** Exact body of `/json/pal` (raw text with newlines on every line). */
  palettesText: string;
  /** Effect metadata strings, absent on 0.13 because it returns 501 for `/json/fxdata`. */
  fxdata?: string[];
  fxdataText?: string;
  /** Palette colours for `/json/palx`, in the order the pages list them. */
  palx: Array<[string, unknown]>;
  /** Initial `/presets.json` body. */
  presetsText: string;
}

export interface ProfileOptions {
  /** `builtin` (default), a folder name under `fixturesDir`, or a path to a capture folder. */
  profile?: string;
  fixturesDir?: string;
}

/** The minimal presets file a device without saved presets serves. */
const EMPTY_PRESETS = '{"0":{}}';

/** Maps `info.ver` to a firmware line; "16.0.0" and later majors are line 16. */
export function firmwareLineOf(version: string): FirmwareLine {
  const [major, minor] = version.split('.').map((part) => Number.parseInt(part, 10));
  if (major >= 16) return '16';
  if (major === 0 && minor >= 15) return '0.15';
  if (major === 0 && minor === 14) return '0.14';
  return '0.13';
}

const BUSY_BEHAVIOUR: Record<FirmwareLine, BusyBehaviour> = {
  '0.13': 'silent',
  '0.14': 'get-503-post-silent',
  '0.15': 'reply-503',
  '16': 'queue',
};

/** ESP32 JSON document size by line, in bytes (ESP8266 is 10240 on every line). */
const ESP32_JSON_BUFFER: Record<FirmwareLine, number> = {
  '0.13': 20480,
  '0.14': 24576,
  '0.15': 32767,
  '16': 32767,
};

/** Derives the network-side limits of a profile from `info.ver` and `info.arch`. */
export function deriveProfileInfo(name: string, version: string, arch: string): ProfileInfo {
  const line = firmwareLineOf(version);
  const isEsp8266 = arch.toLowerCase() === 'esp8266';

  return {
    name,
    line,
    arch: isEsp8266 ? 'esp8266' : 'esp32',
    jsonBufferSize: isEsp8266 ? 10240 : ESP32_JSON_BUFFER[line],
    tcpConnectionLimit: isEsp8266 ? 5 : 16,
    wsClientLimit: isEsp8266 ? 3 : 8,
    palxPageSize: isEsp8266 ? 5 : 8,
    busyBehaviour: BUSY_BEHAVIOUR[line],
  };
}

/**
 * Default fixtures folder: `../shared/wled-fixtures` beside the repository. This file sits
 * three levels below the repository root both as source (`src/emulator/model`) and compiled
 * (`nodes/emulator/model`).
 */
export function defaultFixturesDir(): string {
  return path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'wled-fixtures');
}

/** Loads the built-in profile or a captured one; throws when the folder cannot be found. */
export function loadProfile(options: ProfileOptions = {}): LoadedProfile {
  const name = options.profile ?? 'builtin';
  if (name === 'builtin') return loadBuiltinProfile();

  const folder = resolveProfileFolder(name, options.fixturesDir);
  return loadCapturedProfile(folder);
}

function resolveProfileFolder(profile: string, fixturesDir: string | undefined): string {
  const candidates = [
    ...(fixturesDir ? [path.resolve(fixturesDir, profile)] : []),
    path.resolve(profile),
    path.join(defaultFixturesDir(), profile),
  ];

  const found = candidates.find((candidate) => fs.existsSync(path.join(candidate, 'info.json')));
  if (!found) {
    throw new Error(
      `WLED profile "${profile}" not found: no info.json in ${candidates.join(', ')}. ` +
        'Pass "builtin", a folder name under the fixtures folder, or a path to a capture folder.',
    );
  }
  return found;
}

function readText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

function readOptionalText(file: string): string | undefined {
  return fs.existsSync(file) ? readText(file) : undefined;
}

function loadBuiltinProfile(): LoadedProfile {
  const data = BUILTIN_PROFILE;
  const infoDoc = structuredClone(data.info);
  const effectsText = JSON.stringify(data.effects.map((effect) => effect.name));

  return {
    info: deriveProfileInfo('builtin', String(infoDoc.ver), String(infoDoc.arch)),
    state: structuredClone(data.state),
    infoDoc,
    effects: data.effects.map((effect) => effect.name),
    effectsText,
    palettes: data.palettes.map((palette) => palette.name),
    palettesText: rawNameList(data.palettes.map((palette) => palette.name)),
    fxdata: data.effects.map((effect) => effect.metadata),
    fxdataText: JSON.stringify(data.effects.map((effect) => effect.metadata)),
    palx: data.palettes.map((palette, id) => [String(id), palette.colors]),
    presetsText: JSON.stringify(data.presets),
  };
}

/**
 * Formats names the way the firmware's PROGMEM lists are written: `[`, a newline, ten quoted
 * names per line separated by commas, a newline and `]`.
 */
export function rawNameList(names: string[]): string {
  const lines: string[] = [];
  for (let i = 0; i < names.length; i += 10) {
    lines.push(
      names
        .slice(i, i + 10)
        .map((name) => JSON.stringify(name))
        .join(','),
    );
  }
  return `[\n${lines.join(',\n')}\n]`;
}

function loadCapturedProfile(folder: string): LoadedProfile {
  const infoDoc = JSON.parse(readText(path.join(folder, 'info.json'))) as JsonObject;
  const state = JSON.parse(readText(path.join(folder, 'state.json'))) as JsonObject;
  const effectsText = readText(path.join(folder, 'eff.json'));
  const palettesText = readText(path.join(folder, 'pal.json'));
  const fxdataText = readOptionalText(path.join(folder, 'fxdata.json'));
  const info = deriveProfileInfo(path.basename(folder), String(infoDoc.ver), String(infoDoc.arch));

  const palettes = JSON.parse(palettesText) as string[];
  // A recorded profile carries its device's own presets file; the shared capture folders
  // keep one sample file beside the profile folders instead.
  const presetsText =
    readOptionalText(path.join(folder, 'presets.json')) ??
    readOptionalText(path.join(folder, '..', 'common', 'presets.json')) ??
    EMPTY_PRESETS;

  return {
    info,
    state,
    infoDoc,
    effects: JSON.parse(effectsText) as string[],
    effectsText,
    palettes,
    palettesText,
    // 0.13 has no effect metadata route even if a capture folder carries the file.
    fxdata: fxdataText && info.line !== '0.13' ? (JSON.parse(fxdataText) as string[]) : undefined,
    fxdataText: info.line !== '0.13' ? fxdataText : undefined,
    palx: readPalx(path.join(folder, 'palx'), palettes),
    presetsText,
  };
}

/**
 * Merges every captured `palx/page-N.json` into one ordered list. A capture without pages
 * (16.0.0) gets a neutral two-stop gradient per palette so the route still returns the
 * firmware's shape.
 */
function readPalx(folder: string, palettes: string[]): Array<[string, unknown]> {
  if (!fs.existsSync(folder)) {
    // NOTE: these colours are placeholders, not the device's palette data.
    return palettes.map((_name, id) => [
      String(id),
      [
        [0, 0, 0, 0],
        [255, 255, 255, 255],
      ],
    ]);
  }

  const pages = fs
    .readdirSync(folder)
    .map((file) => /^page-(\d+)\.json$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number.parseInt(match[1], 10))
    .sort((a, b) => a - b);

  // A Map drops the repeats of pages above the last one, which repeat the last page.
  const entries = new Map<string, unknown>();
  for (const page of pages) {
    const text = readText(path.join(folder, `page-${page}.json`));
    const doc = JSON.parse(text) as { p: Record<string, unknown> };
    // Object.entries lists integer keys in ascending order, the order the firmware pages use
    // for built-in palettes.
    for (const [id, colors] of Object.entries(doc.p)) entries.set(id, colors);
  }
  return [...entries];
}
