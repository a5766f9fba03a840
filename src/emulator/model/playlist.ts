/**
 * A running playlist: presets applied one after another, each for its `dur` (in 100 ms
 * units), `repeat` times (0 = until stopped), then the `end` preset.
 */

import { isPlainObject, readInteger, type RandomSource } from './values';

export interface PlaylistHooks {
  applyPreset(id: number): void;
  /** Called when the last repetition ends; `endPreset` is 0 when none is set. */
  finished(endPreset: number): void;
}

/** The firmware keeps at most this many entries. */
const MAX_ENTRIES = 100;

/** Reads `dur`/`transition`, each a list or one number for every entry. */
function perEntry(value: unknown, count: number, fallback: number): number[] {
  if (Array.isArray(value)) {
    return Array.from({ length: count }, (_, i) => readInteger(value[i], 0, 65535) ?? fallback);
  }
  const single = readInteger(value, 0, 65535) ?? fallback;
  return Array.from({ length: count }, () => single);
}

export class Playlist {
  private order: number[] = [];
  private position = 0;
  private repeatsLeft: number;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly id: number,
    private readonly presets: number[],
    private readonly durations: number[],
    repeat: number,
    private readonly endPreset: number,
    private readonly shuffle: boolean,
    private readonly random: RandomSource,
    private readonly hooks: PlaylistHooks,
  ) {
    this.repeatsLeft = repeat;
  }

  /** Builds a playlist from a `playlist` object; `undefined` when it lists no preset. */
  static fromSpec(
    spec: Record<string, unknown>,
    id: number,
    random: RandomSource,
    hooks: PlaylistHooks,
  ): Playlist | undefined {
    if (!isPlainObject(spec) || !Array.isArray(spec.ps)) return undefined;

    // Entry 0 names no preset, so the firmware skips it.
    const presets = spec.ps
      .map((value) => readInteger(value, 1, 250))
      .filter((value): value is number => value !== undefined)
      .slice(0, MAX_ENTRIES);
    if (presets.length === 0) return undefined;

    // NOTE: a duration of 0 is taken as "stay until `np`"; firmware builds may differ.
    const durations = perEntry(spec.dur, presets.length, 100);
    const repeat = readInteger(spec.repeat, 0, 0xffff) ?? 0;
    const endPreset = readInteger(spec.end, 0, 255) ?? 0;
    const shuffle = spec.r === true || spec.r === 1;
    return new Playlist(id, presets, durations, repeat, endPreset, shuffle, random, hooks);
  }

  start() {
    this.shuffleOrder();
    this.position = 0;
    this.applyCurrent();
  }

  /** Moves to the next entry now (`np`). */
  next() {
    this.clearTimer();
    this.position++;

    if (this.position >= this.order.length) {
      // `repeat` 0 loops for ever; otherwise each completed pass uses up one repetition.
      if (this.repeatsLeft > 0) {
        this.repeatsLeft--;
        if (this.repeatsLeft === 0) {
          this.hooks.finished(this.endPreset);
          return;
        }
      }
      this.shuffleOrder();
      this.position = 0;
    }
    this.applyCurrent();
  }

  stop() {
    this.clearTimer();
  }

  private applyCurrent() {
    const index = this.order[this.position];
    this.hooks.applyPreset(this.presets[index]);

    const duration = this.durations[index] * 100;
    if (duration > 0) {
      this.timer = setTimeout(() => this.next(), duration);
      this.timer.unref();
    }
  }

  private shuffleOrder() {
    this.order = this.presets.map((_, i) => i);
    if (!this.shuffle) return;

    for (let i = this.order.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
  }

  private clearTimer() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
