/**
 * Segments as the firmware stores and updates them (`deserializeSegment` in `wled00/json.cpp`).
 * Fields a firmware line does not have (no `c1` on 0.13) are neither applied nor reported:
 * the first segment of the profile's initial state decides which keys exist.
 */

import type { FirmwareLine } from '../types';
import { parseColorSlot, type Rgbw } from './colors';
import { readBoolean, readByteValue, readInteger, type RandomSource } from './values';

export interface Segment {
  id: number;
  start: number;
  /** Exclusive; `stop <= start` means the segment is deleted (inactive). */
  stop: number;
  startY: number;
  stopY: number;
  grp: number;
  spc: number;
  of: number;
  on: boolean;
  frz: boolean;
  /** Opacity, never stored as 0: writing `bri: 0` turns the segment off instead. */
  opacity: number;
  cct: number;
  set: number;
  name?: string;
  col: Rgbw[];
  fx: number;
  sx: number;
  ix: number;
  pal: number;
  c1: number;
  c2: number;
  c3: number;
  sel: boolean;
  rev: boolean;
  mi: boolean;
  rY: boolean;
  mY: boolean;
  tp: boolean;
  o1: boolean;
  o2: boolean;
  o3: boolean;
  si: number;
  m12: number;
  lc: number;
  bm: number;
}

export interface SegmentContext {
  line: FirmwareLine;
  ledCount: number;
  maxSegments: number;
  effects: string[];
  fxdata?: string[];
  builtinPalettes: number;
  customPalettes: number;
  /** Segment keys this line reports, in response order (from the profile's first segment). */
  keys: string[];
  /** Channels per colour slot in responses: 4 on strips with a white channel. */
  colorWidth: 3 | 4;
  /** Maximum segment name length: 32 characters on ESP8266, 64 on ESP32 from 0.15. */
  maxNameLength: number;
  /** Maximum length of a number string for `getVal`: 10 characters on 0.13, 12 later. */
  numberStringMax: number;
  random: RandomSource;
}

const DEFAULT_COLORS: Rgbw[] = [
  [255, 160, 0, 0],
  [0, 0, 0, 0],
  [0, 0, 0, 0],
];

/** Creates a segment as the firmware does: on, selected, orange, Solid, default sliders. */
export function createSegment(id: number, start: number, stop: number, lc: number): Segment {
  return {
    id,
    start,
    stop,
    startY: 0,
    stopY: 1,
    grp: 1,
    spc: 0,
    of: 0,
    on: true,
    frz: false,
    opacity: 255,
    cct: 127,
    set: 0,
    col: DEFAULT_COLORS.map((slot) => [...slot] as Rgbw),
    fx: 0,
    sx: 128,
    ix: 128,
    pal: 0,
    c1: 128,
    c2: 128,
    c3: 16,
    sel: true,
    rev: false,
    mi: false,
    rY: false,
    mY: false,
    tp: false,
    o1: false,
    o2: false,
    o3: false,
    si: 0,
    m12: 0,
    lc,
    bm: 0,
  };
}

/** Builds a segment from one element of a captured state's `seg` array. */
export function segmentFromState(doc: Record<string, unknown>, lc: number): Segment {
  const seg = createSegment(Number(doc.id ?? 0), Number(doc.start ?? 0), Number(doc.stop ?? 0), lc);
  const record = seg as unknown as Record<string, unknown>;

  for (const [key, value] of Object.entries(doc)) {
    if (key === 'bri') seg.opacity = Number(value) || 255;
    else if (key === 'n') seg.name = String(value);
    else if (key === 'col' && Array.isArray(value)) {
      seg.col = value.map(
        (slot) => [0, 1, 2, 3].map((i) => Number((slot as number[])[i] ?? 0)) as Rgbw,
      );
    } else if (key in record && key !== 'len') record[key] = value;
  }
  return seg;
}

export function isActive(seg: Segment): boolean {
  return seg.stop > seg.start;
}

/** Serializes one segment in the line's key order; `n` appears only when a name is set. */
export function serializeSegment(seg: Segment, ctx: SegmentContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const record = seg as unknown as Record<string, unknown>;

  for (const key of ctx.keys) {
    if (key === 'col' && seg.name !== undefined) out.n = seg.name;

    if (key === 'len') out.len = seg.stop - seg.start;
    else if (key === 'bri') out.bri = seg.opacity;
    else if (key === 'col') out.col = seg.col.map((slot) => slot.slice(0, ctx.colorWidth));
    else out[key] = record[key];
  }
  return out;
}

/** Returns whether `key` is a field of segments on this line. */
function has(ctx: SegmentContext, key: string): boolean {
  return ctx.keys.includes(key);
}

/** Returns whether a string starting with `t` toggles this flag (all flags on 0.15+, else on/frz). */
function toggles(ctx: SegmentContext, key: string): boolean {
  return ctx.line === '0.15' || ctx.line === '16' || key === 'on' || key === 'frz';
}

/**
 * Applies start/stop/len/grp/spc/of. Returns `deleted` when the new bounds deactivate the
 * segment (stop at or before start).
 */
export function applyBounds(seg: Segment, elem: Record<string, unknown>, ctx: SegmentContext) {
  const oldStart = seg.start;
  const oldStop = seg.stop;

  const start = readInteger(elem.start, 0, 65535) ?? seg.start;
  let stop = readInteger(elem.stop, -32768, 65535);
  if (stop === undefined) {
    const len = readInteger(elem.len, 1, 65535);
    stop = len !== undefined ? start + len : seg.stop;
  }

  const grp = readInteger(elem.grp, 0, 255);
  if (grp !== undefined && has(ctx, 'grp')) seg.grp = grp === 0 ? 1 : grp;
  const spc = readInteger(elem.spc, 0, 255);
  if (spc !== undefined && has(ctx, 'spc')) seg.spc = spc;

  if (stop <= start || start >= ctx.ledCount) {
    seg.start = 0;
    seg.stop = 0;
    return { deleted: oldStop > oldStart, boundsChanged: true };
  }

  seg.start = start;
  seg.stop = Math.min(stop, ctx.ledCount);

  const of = readInteger(elem.of, -0x80000000, 0x7fffffff);
  const len = seg.stop - seg.start;
  if (of !== undefined && has(ctx, 'of')) {
    // Stored within the length: a negative offset counts back from the end.
    let magnitude = Math.abs(of);
    if (magnitude > len - 1) magnitude %= len;
    seg.of = of < 0 ? len - magnitude : magnitude;
  }
  if (seg.of > len - 1) seg.of = len - 1;

  return { deleted: false, boundsChanged: seg.start !== oldStart || seg.stop !== oldStop };
}

/** Applies the name rule: a non-empty `n` sets it, `""` clears it, new bounds clear it. */
function applyName(
  seg: Segment,
  elem: Record<string, unknown>,
  ctx: SegmentContext,
  boundsChanged: boolean,
) {
  if (typeof elem.n === 'string') {
    seg.name = elem.n === '' ? undefined : elem.n.slice(0, ctx.maxNameLength);
  } else if (boundsChanged && elem.n === undefined) {
    seg.name = undefined;
  }
}

function applyColors(seg: Segment, value: unknown, ctx: SegmentContext) {
  if (!Array.isArray(value)) return;

  for (let slot = 0; slot < 3 && slot < value.length; slot++) {
    const parsed = parseColorSlot(value[slot], seg.col[slot], ctx.line, ctx.random);
    if (parsed) seg.col[slot] = parsed;
  }
}

/**
 * Selects effect `fx` as `setMode` does: ids past the list select Solid, a reserved id moves
 * on to the next real effect (Solid when none follows). Returns the effect actually set.
 */
export function resolveEffect(fx: number, effects: string[]): number {
  let id = fx;
  while (id < effects.length && effects[id] === 'RSVD') id++;
  return id >= effects.length ? 0 : id;
}

/**
 * Applies a palette id with the firmware's range fallback: built-in ids past the list and
 * custom ids (255 = first custom palette) that do not exist select palette 0.
 */
export function resolvePalette(pal: number, ctx: SegmentContext): number {
  // 0.15.x compares against the built-in count with `>`, so exactly that id and 245 slip
  // through unchanged (checked in FX_fcn.cpp of v0.15.3).
  const quirk = ctx.line === '0.15';
  const lastBuiltin = quirk ? ctx.builtinPalettes : ctx.builtinPalettes - 1;
  const firstCustom = quirk ? 246 : 245;

  if (pal < firstCustom && pal > lastBuiltin) return 0;
  if (pal >= firstCustom && 255 - pal >= ctx.customPalettes) return 0;
  return pal;
}

/** Loads the effect defaults of the metadata string's last section (`sx=24,pal=50`). */
function applyEffectDefaults(seg: Segment, ctx: SegmentContext) {
  const metadata = ctx.fxdata?.[seg.fx] ?? '';
  const sections = metadata.split(';');
  const defaults = new Map<string, number>();
  for (const pair of (sections[4] ?? '').split(',')) {
    const [key, value] = pair.split('=');
    if (key && value !== undefined) defaults.set(key.trim(), Number.parseInt(value, 10));
  }

  // Sliders and options fall back to their standard values when the effect names none.
  seg.sx = defaults.get('sx') ?? 128;
  seg.ix = defaults.get('ix') ?? 128;
  if (has(ctx, 'c1')) seg.c1 = defaults.get('c1') ?? 128;
  if (has(ctx, 'c2')) seg.c2 = defaults.get('c2') ?? 128;
  if (has(ctx, 'c3')) seg.c3 = defaults.get('c3') ?? 16;
  if (has(ctx, 'o1')) seg.o1 = (defaults.get('o1') ?? 0) > 0;
  if (has(ctx, 'o2')) seg.o2 = (defaults.get('o2') ?? 0) > 0;
  if (has(ctx, 'o3')) seg.o3 = (defaults.get('o3') ?? 0) > 0;

  const pal = defaults.get('pal');
  if (pal !== undefined) seg.pal = resolvePalette(pal, ctx);
  for (const key of ['m12', 'si'] as const) {
    const value = defaults.get(key);
    if (value !== undefined && has(ctx, key)) seg[key] = value;
  }
  for (const key of ['rev', 'mi', 'rY', 'mY'] as const) {
    const value = defaults.get(key);
    if (value !== undefined && has(ctx, key)) seg[key] = value > 0;
  }
}

export interface SegmentUpdate {
  /** The request set a valid `fx`, even the current one, which unloads a running playlist. */
  effectSent: boolean;
}

/** Applies every field except the bounds, in the firmware's order. */
export function applySegmentFields(
  seg: Segment,
  elem: Record<string, unknown>,
  ctx: SegmentContext,
  boundsChanged: boolean,
): SegmentUpdate {
  applyName(seg, elem, ctx, boundsChanged);

  // Segment bri: 0 switches the segment off and keeps the opacity, >0 sets it and switches on.
  const segBri = readByteValue(elem.bri, seg.opacity, 0, 255, ctx.random, ctx.numberStringMax);
  if (segBri !== undefined) {
    if (segBri > 0) seg.opacity = segBri;
    seg.on = segBri > 0;
  }

  seg.on = readBoolean(elem.on, seg.on, toggles(ctx, 'on')) ?? seg.on;
  if (has(ctx, 'frz')) seg.frz = readBoolean(elem.frz, seg.frz, toggles(ctx, 'frz')) ?? seg.frz;

  const cct = readInteger(elem.cct, 0, 0x7fffffff);
  if (cct !== undefined && has(ctx, 'cct')) seg.cct = cctToByte(cct);

  const set = readInteger(elem.set, -0x80000000, 0x7fffffff);
  if (set !== undefined && has(ctx, 'set')) seg.set = Math.min(3, Math.max(0, set));

  applyColors(seg, elem.col, ctx);

  const effectSent = applyEffect(seg, elem, ctx);

  for (const key of ['sx', 'ix', 'c1', 'c2'] as const) {
    if (!has(ctx, key)) continue;
    seg[key] =
      readByteValue(elem[key], seg[key], 0, 255, ctx.random, ctx.numberStringMax) ?? seg[key];
  }
  if (has(ctx, 'c3')) {
    const c3 = readByteValue(elem.c3, seg.c3, 0, 31, ctx.random, ctx.numberStringMax);
    if (c3 !== undefined) seg.c3 = Math.min(31, c3);
  }

  const palCount = ctx.builtinPalettes + ctx.customPalettes;
  const pal = readByteValue(elem.pal, seg.pal, 0, palCount, ctx.random, ctx.numberStringMax);
  if (pal !== undefined) seg.pal = resolvePalette(pal, ctx);

  for (const key of ['sel', 'rev', 'mi', 'rY', 'mY', 'tp', 'o1', 'o2', 'o3'] as const) {
    if (!has(ctx, key)) continue;
    seg[key] = readBoolean(elem[key], seg[key], toggles(ctx, key)) ?? seg[key];
  }

  const si = readInteger(elem.si, -0x80000000, 0x7fffffff);
  if (si !== undefined && has(ctx, 'si')) seg.si = Math.min(3, Math.max(0, si));
  const m12 = readInteger(elem.m12, -0x80000000, 0x7fffffff);
  if (m12 !== undefined && has(ctx, 'm12')) seg.m12 = Math.min(7, Math.max(0, m12));
  const bm = readByteValue(elem.bm, seg.bm, 0, 15, ctx.random, ctx.numberStringMax);
  if (bm !== undefined && has(ctx, 'bm')) seg.bm = Math.min(15, bm);

  // Individual LED colours freeze the segment so the effect does not paint over them.
  if (Array.isArray(elem.i) && elem.i.length > 0) seg.frz = true;

  return { effectSent };
}

function applyEffect(seg: Segment, elem: Record<string, unknown>, ctx: SegmentContext): boolean {
  // The upper limit is the effect count itself, so "~" from the last effect selects Solid.
  const fx = readByteValue(elem.fx, seg.fx, 0, ctx.effects.length, ctx.random, ctx.numberStringMax);
  if (fx === undefined) return false;

  const resolved = resolveEffect(fx, ctx.effects);
  if (resolved === seg.fx) return true;

  seg.fx = resolved;
  if (elem.fxdef === true) applyEffectDefaults(seg, ctx);
  return true;
}

/** Relative CCT stays as given; kelvin values (>255) map 1900..10091 K onto 0..255. */
function cctToByte(cct: number): number {
  if (cct <= 255) return cct;
  const kelvin = Math.min(10091, Math.max(1900, cct));
  return Math.round(((kelvin - 1900) * 255) / (10091 - 1900));
}
