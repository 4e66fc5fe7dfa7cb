import { InvalidOptionError } from '../errors.ts';
import type { NetworkOutOptions } from './types.ts';

/** The options with their defaults filled in, checked. */
export interface Settings {
  readonly timeZone: string;
  readonly minBurstBytes: number;
  readonly minDays: number;
  readonly maxBurstMinutes: number;
  readonly includeProfile: boolean;
}

/**
 * Fills in the defaults of {@link NetworkOutOptions} and checks the values.
 * @throws InvalidOptionError
 */
export function resolveOptions(options: NetworkOutOptions): Settings {
  const settings: Settings = {
    timeZone: options.timeZone ?? 'UTC',
    minBurstBytes: options.minBurstBytes ?? 1_000_000,
    minDays: options.minDays ?? 5,
    maxBurstMinutes: options.maxBurstMinutes ?? 420,
    includeProfile: options.includeProfile ?? false,
  };
  if (!(settings.minBurstBytes >= 0) || !Number.isFinite(settings.minBurstBytes)) {
    throw new InvalidOptionError(`minBurstBytes must be a finite number ≥ 0, got ${settings.minBurstBytes}`);
  }
  if (!Number.isInteger(settings.minDays) || settings.minDays < 1) {
    throw new InvalidOptionError(`minDays must be a whole number ≥ 1, got ${settings.minDays}`);
  }
  if (!(settings.maxBurstMinutes >= 5 && settings.maxBurstMinutes <= 1440)) {
    throw new InvalidOptionError(
      `maxBurstMinutes must be between 5 and 1440, got ${settings.maxBurstMinutes}`,
    );
  }
  return settings;
}
