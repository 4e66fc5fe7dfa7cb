/** Number formatting shared by the detectors' reasons and reports. */

/** Human-readable decimal bytes: 1.3 GB, 640 kB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** `value` rounded to `digits` decimal places (values so large that scaling them would overflow are kept). */
export function roundTo(value: number, digits: number): number {
  const factor = 10 ** digits;
  const scaled = value * factor;
  return Number.isFinite(scaled) ? Math.round(scaled) / factor : value;
}

/** `value` rounded to a whole number, or 0 when it is not finite (for evidence fields that must be numbers). */
export function roundedOrZero(value: number): number {
  return Number.isFinite(value) ? Math.round(value) : 0;
}
