/**
 * The live state object and how a JSON state request changes it (`deserializeState` and
 * `serializeState` in `wled00/json.cpp`). Presets, playlists and timers live in the device;
 * this module applies one request synchronously and reports what must happen afterwards.
 */

import type { FirmwareLine } from '../types';
import {
  applyBounds,
  applySegmentFields,
  createSegment,
  isActive,
  segmentFromState,
  serializeSegment,
  type Segment,
  type SegmentContext,
} from './segments';
import { isPlainObject, readBoolean, readByteValue, readInteger } from './values';

type JsonObject = Record<string, unknown>;

export interface StateContext extends SegmentContext {
  /** Top-level state keys in response order (from the profile's initial state). */
  stateKeys: string[];
  nlKeys: string[];
  udpnKeys: string[];
  /** Ledmap ids the device has files for (`info.maps`). */
  ledmaps: number[];
  /** Light capabilities of new segments (1 RGB, 3 RGB + white). */
  segmentLc: number;
}

/** Follow-up work from a request, which the device performs after building the response. */
export interface StateActions {
  /** Preset to load asynchronously (`ps`, including cycle and random strings). */
  preset?: number;
  playlist?: JsonObject;
  nextPlaylistEntry?: boolean;
  savePreset?: number;
  deletePreset?: number;
  reboot?: boolean;
  /** Some segment got a valid `fx`, which unloads a running playlist. */
  effectSent: boolean;
  /** The nightlight was switched on by this request. */
  nightlightStarted: boolean;
}

export interface Nightlight {
  on: boolean;
  /** Minutes, 1-255. */
  dur: number;
  /** 0 instant, 1 fade, 2 colour fade, 3 sunrise. */
  mode: number;
  tbri: number;
}

export class DeviceState {
  /** Current master brightness; 0 while the light is off. */
  bri: number;
  /** Last non-zero brightness: what `bri` reports and what turning on restores. */
  briLast: number;
  /** Default crossfade in 100 ms units. */
  transition: number;
  bs: number;
  /** Current preset id, -1 when the state no longer matches a preset. */
  ps = -1;
  /** Active playlist preset id, -1 when none runs (0 for a playlist sent inline). */
  pl = -1;
  ledmap: number;
  nl: Nightlight;
  /** Epoch milliseconds when the nightlight started, for `nl.rem`. */
  nlStartedAt = 0;
  udpn: { send: boolean; recv: boolean; sgrp: number; rgrp: number };
  lor: number;
  mainseg: number;
  /** Segment slots by id; deleted segments stay as inactive slots until a purge. */
  segments: Segment[];
  /** Usermod objects such as `AudioReactive`, kept as given. */
  usermods: Map<string, JsonObject>;
  /** One-shot `error` code reported by the next state read. */
  error: number | undefined;
  /** Cycle position used by `ps` strings such as `"1~5~"`. */
  presetCycle = 0;

  constructor(
    initial: JsonObject,
    private readonly ctx: StateContext,
  ) {
    this.bri = initial.on === false ? 0 : Number(initial.bri ?? 128);
    this.briLast = Number(initial.bri ?? 128) || 128;
    this.transition = Number(initial.transition ?? 7);
    this.bs = Number(initial.bs ?? 0);
    this.ledmap = Number(initial.ledmap ?? 0);
    this.lor = Number(initial.lor ?? 0);
    this.mainseg = Number(initial.mainseg ?? 0);

    const nl = isPlainObject(initial.nl) ? initial.nl : {};
    this.nl = {
      on: nl.on === true,
      dur: Number(nl.dur ?? 60),
      mode: Number(nl.mode ?? 1),
      tbri: Number(nl.tbri ?? 0),
    };

    const udpn = isPlainObject(initial.udpn) ? initial.udpn : {};
    this.udpn = {
      send: udpn.send === true,
      recv: udpn.recv !== false,
      sgrp: Number(udpn.sgrp ?? 1),
      rgrp: Number(udpn.rgrp ?? 1),
    };

    this.usermods = new Map();
    for (const key of ctx.stateKeys) {
      if (!KNOWN_KEYS.has(key) && isPlainObject(initial[key])) {
        this.usermods.set(key, structuredClone(initial[key] as JsonObject));
      }
    }

    this.segments = this.initialSegments(initial.seg);
    this.error = undefined;
  }

  private initialSegments(seg: unknown): Segment[] {
    const docs = Array.isArray(seg) ? seg.filter(isPlainObject) : [];
    const slots: Segment[] = [];

    for (const doc of docs) {
      const segment = segmentFromState(doc, this.ctx.segmentLc);
      segment.stop = Math.min(segment.stop, this.ctx.ledCount);
      while (slots.length < segment.id)
        slots.push(createSegment(slots.length, 0, 0, this.ctx.segmentLc));
      slots[segment.id] = segment;
    }
    if (slots.length === 0) slots.push(createSegment(0, 0, this.ctx.ledCount, this.ctx.segmentLc));

    // A single segment spanning the captured strip follows the configured LED count.
    if (docs.length === 1 && slots[0].start === 0) slots[0].stop = this.ctx.ledCount;

    if (this.ctx.line === '0.13') {
      // 0.13 keeps a fixed array of maxseg slots; ids are positions in it.
      while (slots.length < this.ctx.maxSegments)
        slots.push(createSegment(slots.length, 0, 0, this.ctx.segmentLc));
    }
    return slots;
  }

  get line(): FirmwareLine {
    return this.ctx.line;
  }

  activeSegments(): Segment[] {
    return this.segments.filter(isActive);
  }

  /** Switches the light on or off as `toggleOnOff` does, remembering the brightness. */
  private toggleOnOff() {
    if (this.bri === 0) {
      this.bri = this.briLast;
      // Turning the light on unfreezes every segment.
      for (const seg of this.segments) seg.frz = false;
    } else {
      this.briLast = this.bri;
      this.bri = 0;
    }
  }

  /** Applies `on` and `bri` with the firmware's order of checks (so `{"on":"t","bri":32}` works). */
  private applyPower(root: JsonObject) {
    const wasOn = this.bri > 0;
    const bri = readByteValue(
      root.bri,
      this.bri,
      0,
      255,
      this.ctx.random,
      this.ctx.numberStringMax,
    );
    if (bri !== undefined) this.bri = bri;

    const on = typeof root.on === 'boolean' ? root.on : this.bri > 0;
    if (on !== this.bri > 0) this.toggleOnOff();

    if (typeof root.on === 'string' && root.on[0] === 't') {
      // A toggle does not switch off again what `bri` has just switched on.
      if (wasOn || this.bri === 0) this.toggleOnOff();
    }

    if (this.bri > 0) this.briLast = this.bri;
  }

  private applyNightlight(value: unknown, actions: StateActions) {
    if (!isPlainObject(value)) return;

    const toggle = this.line === '0.15' || this.line === '16';
    const on = readBoolean(value.on, this.nl.on, toggle);
    if (on !== undefined) {
      actions.nightlightStarted = on && !this.nl.on;
      this.nl.on = on;
    }
    this.nl.dur = readInteger(value.dur, 0, 255) ?? this.nl.dur;
    this.nl.mode = readInteger(value.mode, 0, 255) ?? this.nl.mode;
    this.nl.tbri = readInteger(value.tbri, 0, 255) ?? this.nl.tbri;
  }

  private applyUdpn(value: unknown) {
    if (!isPlainObject(value)) return;

    const newer = this.line === '0.15' || this.line === '16';
    this.udpn.send = readBoolean(value.send, this.udpn.send, newer) ?? this.udpn.send;
    if (this.ctx.udpnKeys.includes('sgrp')) {
      this.udpn.sgrp = readInteger(value.sgrp, 0, 255) ?? this.udpn.sgrp;
      this.udpn.rgrp = readInteger(value.rgrp, 0, 255) ?? this.udpn.rgrp;
    }
    // From 0.15 `recv` only reports whether any receive group is set.
    if (newer) this.udpn.recv = this.udpn.rgrp !== 0;
    else this.udpn.recv = readBoolean(value.recv, this.udpn.recv, false) ?? this.udpn.recv;
  }

  /**
   * Applies one state request. `presetId` is set when the request is a preset's content, which
   * keeps a running playlist loaded.
   */
  apply(root: JsonObject, presetId = 0): StateActions {
    const actions: StateActions = { effectSent: false, nightlightStarted: false };

    this.applyPower(root);

    const transition = readInteger(root.transition, 0, 65535);
    if (transition !== undefined && (presetId === 0 || this.pl < 0)) this.transition = transition;
    // `tt` sets the crossfade of this one change only, so nothing of it is stored.
    // 16.x keeps the blending style in five bits.
    const bs = readInteger(root.bs, 0, 255);
    if (bs !== undefined && this.ctx.stateKeys.includes('bs')) this.bs = bs & 0x1f;

    this.applyNightlight(root.nl, actions);
    this.applyUdpn(root.udpn);

    const lor = readInteger(root.lor, 0, 255);
    if (lor !== undefined) this.lor = Math.min(2, lor);

    const ledmap = readInteger(root.ledmap, 0, 255);
    if (ledmap !== undefined && this.ctx.ledmaps.includes(ledmap)) this.ledmap = ledmap;

    const mainseg = readInteger(root.mainseg, 0, 255);
    if (mainseg !== undefined && this.segments[mainseg] && isActive(this.segments[mainseg])) {
      this.mainseg = mainseg;
    }

    if (root.seg !== undefined) actions.effectSent = this.applySegments(root.seg);

    for (const [key, current] of this.usermods) {
      if (isPlainObject(root[key])) mergeSameTypes(current, root[key] as JsonObject);
    }

    this.collectPresetActions(root, presetId, actions);
    if (root.rb === true) actions.reboot = true;
    return actions;
  }

  private collectPresetActions(root: JsonObject, presetId: number, actions: StateActions) {
    const psave = readInteger(root.psave, 1, 250);
    if (psave !== undefined) {
      actions.savePreset = psave;
      return;
    }
    actions.deletePreset = readInteger(root.pdel, 1, 250);

    if (root.ps !== undefined && presetId === 0) {
      const current = this.ps > 0 ? this.ps : this.presetCycle;
      const ps = readByteValue(root.ps, current, 0, 0, this.ctx.random, this.ctx.numberStringMax);
      // 0.14+ ignores a request for the preset that is already active.
      const repeated = ps === this.ps && this.line !== '0.13';
      if (ps !== undefined && ps > 0 && ps < 251 && !repeated) {
        this.presetCycle = ps;
        actions.preset = ps;
      }
    }

    if (isPlainObject(root.playlist)) actions.playlist = root.playlist;
    if (root.np === true && (this.line === '0.15' || this.line === '16'))
      actions.nextPlaylistEntry = true;
  }

  /** Applies `seg` as an object (selected segments or the given id) or as an array. */
  private applySegments(value: unknown): boolean {
    if (isPlainObject(value)) {
      const id = readInteger(value.id, 0, 255);
      if (id !== undefined) return this.applySegment(value, id).effectSent;

      let targets = this.activeSegments().filter((seg) => seg.sel);
      if (targets.length === 0 && this.line === '0.13') targets = [this.segments[this.mainseg]];
      let effectSent = false;
      for (const seg of targets)
        effectSent = this.applySegment(value, seg.id).effectSent || effectSent;
      return effectSent;
    }

    if (!Array.isArray(value)) return false;

    let effectSent = false;
    let deleted = 0;
    value.forEach((elem, position) => {
      if (!isPlainObject(elem)) return;
      const result = this.applySegment(elem, readInteger(elem.id, 0, 255) ?? position);
      effectSent = result.effectSent || effectSent;
      // The firmware counts every applied element that sends `stop: 0`.
      if (result.applied && elem.stop === 0) deleted++;
    });
    this.purgeIfMostlyDeleted(deleted);
    return effectSent;
  }

  /**
   * Applies one segment element to segment `id`. An id past the list creates a segment only
   * when the element has a `stop` above 0 (a `len` alone does not); 0.14+ appends it at the
   * next free id.
   */
  private applySegment(elem: JsonObject, id: number): { effectSent: boolean; applied: boolean } {
    const ignored = { effectSent: false, applied: false };
    if (id >= this.ctx.maxSegments) return ignored;

    let seg = this.segments[id];
    if (!seg) {
      const stop = readInteger(elem.stop, -32768, 65535) ?? -1;
      if (stop <= 0) return ignored;

      seg = createSegment(this.segments.length, 0, this.ctx.ledCount, this.ctx.segmentLc);
      this.segments.push(seg);
    }

    const wasActive = isActive(seg);
    const onlyActive = wasActive && this.activeSegments().length === 1;
    const before = { start: seg.start, stop: seg.stop };
    const bounds = applyBounds(seg, elem, this.ctx);

    if (bounds.deleted && onlyActive) {
      // NOTE: keeping the last segment alive is a guess; the firmware never reports an empty
      // segment list in any capture.
      seg.start = before.start;
      seg.stop = before.stop;
      return { effectSent: false, applied: true };
    }
    if (!isActive(seg)) {
      if (wasActive && this.mainseg === seg.id) this.mainseg = 0;
      return { effectSent: false, applied: true };
    }

    const update = applySegmentFields(seg, elem, this.ctx, bounds.boundsChanged);
    return { effectSent: update.effectSent, applied: true };
  }

  /**
   * 0.14+ renumbers the segments when one array request deletes at least half of more than
   * three segments (`deleted >= count / 2` in integer arithmetic).
   */
  private purgeIfMostlyDeleted(deleted: number) {
    if (this.line === '0.13') return;
    const count = this.segments.length;
    if (count <= 3 || deleted < Math.floor(count / 2)) return;

    this.segments = this.activeSegments();
    this.segments.forEach((seg, index) => (seg.id = index));
    this.mainseg = 0;
  }

  /** Builds the state document in the firmware's key order. It leaves `error` set. */
  serialize(nlRemaining: number): JsonObject {
    const out: JsonObject = {};

    for (const key of this.ctx.stateKeys) {
      if (key === 'ps' && this.error !== undefined) out.error = this.error;

      switch (key) {
        case 'on':
          out.on = this.bri > 0;
          break;
        case 'bri':
          out.bri = this.briLast;
          break;
        case 'transition':
        case 'bs':
        case 'ps':
        case 'pl':
        case 'ledmap':
        case 'lor':
        case 'mainseg':
          out[key] = this[key];
          break;
        case 'nl':
          out.nl = pick({ ...this.nl, rem: nlRemaining }, this.ctx.nlKeys);
          break;
        case 'udpn':
          out.udpn = pick(this.udpn, this.ctx.udpnKeys);
          break;
        case 'seg':
          out.seg = this.activeSegments().map((seg) => serializeSegment(seg, this.ctx));
          break;
        default:
          if (this.usermods.has(key)) out[key] = structuredClone(this.usermods.get(key));
      }
    }
    return out;
  }

  /** Light capabilities per segment for `info.leds.seglc`. */
  segmentCapabilities(): number[] {
    if (this.line === '0.13') {
      // 0.13 lists every slot up to the last active one.
      const lastActive = this.segments.map(isActive).lastIndexOf(true);
      return this.segments.slice(0, lastActive + 1).map((seg) => (isActive(seg) ? seg.lc : 0));
    }
    return this.activeSegments().map((seg) => seg.lc);
  }
}

const KNOWN_KEYS = new Set([
  'on',
  'bri',
  'transition',
  'bs',
  'error',
  'ps',
  'pl',
  'ledmap',
  'nl',
  'udpn',
  'lor',
  'mainseg',
  'seg',
]);

function pick(source: Record<string, unknown>, keys: string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) if (key in source) out[key] = source[key];
  return out;
}

/** Copies values of `update` into `target` where the key exists with the same JSON type. */
function mergeSameTypes(target: JsonObject, update: JsonObject) {
  for (const [key, value] of Object.entries(update)) {
    if (key in target && typeof target[key] === typeof value && !isPlainObject(value)) {
      target[key] = value;
    }
  }
}
