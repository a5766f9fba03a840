/**
 * Parsing of WLED effect metadata (`/json/fxdata`, 0.14+) for the effect node's editor.
 *
 * Each entry is the part after `@` of the firmware's effect descriptor:
 * `<params>;<colours>;<palette>;<flags>;<defaults>`. The visibility rules below follow
 * WLED's own web UI (setEffectParameters() in wled00/data/index.js). An empty entry shows
 * speed, intensity, all three colours and the palette. Otherwise a control is shown only
 * when its field is non-empty, and `!` stands for the default label.
 */

export type SliderKey = 'sx' | 'ix' | 'c1' | 'c2' | 'c3';
export type OptionKey = 'o1' | 'o2' | 'o3';

export interface EffectControl<Key extends string> {
  key: Key;
  label: string;
}

export interface ColorSlot {
  /** Slot index in `col`: 0 primary, 1 background, 2 tertiary. */
  slot: number;
  label: string;
}

export interface EffectFlags {
  /** The raw flag characters, e.g. "01" or "2f". */
  raw: string;
  oneD: boolean;
  /** Needs a 2D matrix. */
  twoD: boolean;
  /** Reacts to volume (audio-reactive builds). */
  volume: boolean;
  /** Reacts to frequency (audio-reactive builds). */
  frequency: boolean;
}

export interface EffectMetadata {
  sliders: Array<EffectControl<SliderKey>>;
  /** Checkboxes. */
  options: Array<EffectControl<OptionKey>>;
  colors: ColorSlot[];
  /** Whether the effect uses the palette. */
  usesPalette: boolean;
  paletteLabel?: string;
  flags: EffectFlags;
  /** Segment values WLED loads when the effect is selected with `fxdef`, e.g. {sx: 24, pal: 50}. */
  defaults: Record<string, number>;
}

const SLIDER_KEYS: SliderKey[] = ['sx', 'ix', 'c1', 'c2', 'c3'];
const OPTION_KEYS: OptionKey[] = ['o1', 'o2', 'o3'];

const DEFAULT_SLIDER_LABELS: Record<SliderKey, string> = {
  sx: 'Effect speed',
  ix: 'Effect intensity',
  c1: 'Custom 1',
  c2: 'Custom 2',
  c3: 'Custom 3',
};
const DEFAULT_OPTION_LABELS: Record<OptionKey, string> = {
  o1: 'Option 1',
  o2: 'Option 2',
  o3: 'Option 3',
};
const DEFAULT_COLOR_LABELS = ['Fx', 'Bg', 'Cs'];
const UNDESCRIBED_COLOR_LABELS = ['Color 1', 'Color 2', 'Color 3'];
const DEFAULT_PALETTE_LABEL = 'Color palette';

/**
 * Parses one fxdata entry. A full descriptor (`Name@...`) is accepted too; the part before
 * `@` is dropped.
 */
export function parseFxData(entry: string): EffectMetadata {
  const at = entry.indexOf('@');
  const data = at >= 0 ? entry.slice(at + 1) : entry;

  if (data === '') {
    return undescribedEffect();
  }

  const sections = data.split(';');
  const params = splitList(sections[0]);
  const colorFields = splitList(sections[1]);
  const paletteField = sections.length > 2 ? sections[2] : '';

  const sliders = SLIDER_KEYS.flatMap((key, index) => {
    const field = params[index];
    return field ? [{ key, label: field === '!' ? DEFAULT_SLIDER_LABELS[key] : field }] : [];
  });

  const options = OPTION_KEYS.flatMap((key, index) => {
    const field = params[SLIDER_KEYS.length + index];
    return field ? [{ key, label: field === '!' ? DEFAULT_OPTION_LABELS[key] : field }] : [];
  });

  const colors = colorFields.flatMap((field, slot) =>
    field && slot < 3 ? [{ slot, label: field === '!' ? DEFAULT_COLOR_LABELS[slot] : field }] : [],
  );

  return {
    sliders,
    options,
    colors,
    ...parsePalette(paletteField),
    flags: parseFlags(flagsSection(sections)),
    defaults: parseDefaults(sections.length > 1 ? sections[sections.length - 1] : undefined),
  };
}

/** Parses a whole `/json/fxdata` list into metadata by effect id. */
export function parseFxDataList(entries: string[]): EffectMetadata[] {
  return entries.map((entry) => parseFxData(typeof entry === 'string' ? entry : ''));
}

/** Builds the controls of an effect without metadata, such as Solid, or any effect on 0.13 (which has no fxdata). */
function undescribedEffect(): EffectMetadata {
  return {
    sliders: [
      { key: 'sx', label: DEFAULT_SLIDER_LABELS.sx },
      { key: 'ix', label: DEFAULT_SLIDER_LABELS.ix },
    ],
    options: [],
    colors: UNDESCRIBED_COLOR_LABELS.map((label, slot) => ({ slot, label })),
    usesPalette: true,
    paletteLabel: DEFAULT_PALETTE_LABEL,
    flags: parseFlags(undefined),
    defaults: {},
  };
}

function splitList(section: string | undefined): string[] {
  return section === undefined || section === '' ? [] : section.split(',');
}

/**
 * Reads the palette field: `!` (default label), a label of its own, or empty (palette
 * unused). A numeric field also means unused. A `label=N` form carries a default palette, which the
 * defaults section supersedes.
 */
function parsePalette(field: string): Pick<EffectMetadata, 'usesPalette' | 'paletteLabel'> {
  const label = field.split(',')[0].split('=')[0];
  if (label === '' || !Number.isNaN(Number(label))) {
    return { usesPalette: false };
  }
  return { usesPalette: true, paletteLabel: label === '!' ? DEFAULT_PALETTE_LABEL : label };
}

/**
 * Returns the flags section, or undefined when the fourth section contains defaults instead,
 * as 16.0's "Flow Stripe" entry does (`Hue speed,Effect speed;;!;pal=11`).
 */
function flagsSection(sections: string[]): string | undefined {
  const section = sections[3];
  return section !== undefined && section.includes('=') ? undefined : section;
}

/** Reads the flag characters. A missing flags section means a 1D effect. */
function parseFlags(section: string | undefined): EffectFlags {
  const raw = section === undefined || section === '' ? '1' : section;
  return {
    raw,
    oneD: raw.includes('1'),
    twoD: raw.includes('2'),
    volume: raw.includes('v'),
    frequency: raw.includes('f'),
  };
}

/**
 * Reads `key=value` pairs such as `sx=24,pal=50` from the last section, where the firmware
 * looks for them (it searches after the last `;`, extractModeDefaults() in util.cpp, 0.14+).
 * Entries whose value is not a number are skipped.
 */
function parseDefaults(section: string | undefined): Record<string, number> {
  const defaults: Record<string, number> = {};
  for (const pair of splitList(section)) {
    const [key, value] = pair.split('=');
    const number = Number(value);
    if (key && value !== undefined && value.trim() !== '' && Number.isFinite(number)) {
      defaults[key.trim()] = number;
    }
  }
  return defaults;
}
