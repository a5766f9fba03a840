/** Colour slot parsing for segment `col`, in the forms the firmware accepts per line. */

import type { FirmwareLine } from '../types';
import { isPlainObject, randomByte, type RandomSource } from './values';

/** One colour slot, always four channels internally: red, green, blue, white. */
export type Rgbw = [number, number, number, number];

/** ArduinoJson's conversion of one array element to a byte: non-integers and >255 become 0. */
function channelByte(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) return 0;
  return value >= 0 && value <= 255 ? value : 0;
}

/**
 * Converts a colour temperature in kelvin to RGB with the usual black-body curve fit
 * (Tanner Helland's approximation, which WLED's `colorKtoRGB` also follows).
 */
export function kelvinToRgb(kelvin: number): Rgbw {
  const t = kelvin / 100;
  const clamp = (v: number) => Math.round(Math.min(255, Math.max(0, v)));

  const red = t <= 66 ? 255 : 329.698727446 * Math.pow(t - 60, -0.1332047592);
  const green =
    t <= 66
      ? 99.4708025861 * Math.log(t) - 161.1195681661
      : 288.1221695283 * Math.pow(t - 60, -0.0755148492);
  let blue = 255;
  if (t < 66) blue = t <= 19 ? 0 : 138.5177312231 * Math.log(t - 10) - 305.0447927307;

  return [clamp(red), clamp(green), clamp(blue), 0];
}

/** Hex `RRGGBB` or `RRGGBBWW` (white last: the firmware parser takes the last two digits). */
function parseHexColor(text: string): Rgbw | undefined {
  if (!/^[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/.test(text)) return undefined;

  const byteAt = (i: number) => Number.parseInt(text.slice(i, i + 2), 16);
  return [byteAt(0), byteAt(2), byteAt(4), text.length === 8 ? byteAt(6) : 0];
}

/**
 * Returns the new value of one colour slot, or `undefined` when the request leaves it as is
 * (`[]`, a negative number, an unparsable string, or a form the firmware line lacks).
 */
export function parseColorSlot(
  value: unknown,
  current: Rgbw,
  line: FirmwareLine,
  random: RandomSource,
): Rgbw | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    // Channels the array leaves out become 0, as the firmware copies into a zeroed buffer.
    return [0, 1, 2, 3].map((i) => channelByte(value[i])) as Rgbw;
  }

  if (typeof value === 'string') {
    // "r" picks a random colour on 16.x only; older lines read it as an invalid hex string.
    if (value === 'r' && line === '16') {
      return [
        randomByte(random, 0, 255),
        randomByte(random, 0, 255),
        randomByte(random, 0, 255),
        0,
      ];
    }
    if (line === '0.13' && value.length !== 6 && value.length !== 8) return undefined;
    return parseHexColor(value);
  }

  if (typeof value === 'number' && Number.isInteger(value)) {
    if (value < 0) return undefined;
    return value === 0 ? [0, 0, 0, 0] : kelvinToRgb(value);
  }

  // Objects with any subset of r, g, b, w arrived in 0.15.
  if (isPlainObject(value) && (line === '0.15' || line === '16')) {
    const next: Rgbw = [...current];
    (['r', 'g', 'b', 'w'] as const).forEach((key, i) => {
      if (value[key] !== undefined) next[i] = channelByte(value[key]);
    });
    return next;
  }

  return undefined;
}
