/** The read-only resources the get-state node can fetch, and the device paths behind them. */

export const RESOURCE_PATHS = {
  state: '/json/state',
  info: '/json/info',
  full: '/json',
  effects: '/json/eff',
  palettes: '/json/pal',
  presets: '/presets.json',
} as const;

export type ResourceName = keyof typeof RESOURCE_PATHS;

export const RESOURCE_NAMES = Object.keys(RESOURCE_PATHS) as ResourceName[];

export function isResourceName(value: unknown): value is ResourceName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(RESOURCE_PATHS, value);
}
