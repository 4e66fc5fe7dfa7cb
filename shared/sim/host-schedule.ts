/**
 * When updatedb starts each day on a simulated host: cron.daily from /etc/crontab (06:25), cron.daily
 * through anacron (Amazon Linux 2: from 03:01, plus 5 minutes and up to RANDOM_DELAY), a systemd timer
 * (`OnCalendar=daily`, a fresh random delay up to `RandomizedDelaySec` at each run, and a host-specific
 * but stable position within `AccuracySec`), or nothing. Deterministic from the host's seed. Pure.
 */
import { MS_PER_DAY, MS_PER_MINUTE, type ZoneClock, zoneClock } from '#core/time-zone.ts';
import { mix } from './fleet-model.ts';

export type UpdatedbSchedule =
  /** `/etc/crontab` runs cron.daily at this local minute (25 6 * * * → 385). */
  | { readonly kind: 'cronDaily'; readonly minuteOfDay: number }
  /** anacron: cron.hourly's 0anacron at hh:01 of the first hour of START_HOURS_RANGE, then the delays. */
  | {
      readonly kind: 'anacron';
      readonly startHour: number;
      readonly delayMinutes: number;
      readonly randomDelayMinutes: number;
    }
  | {
      readonly kind: 'systemdTimer';
      readonly unit: string;
      readonly unitFile: string;
      /** RandomizedDelaySec: a new uniform delay in [0, this) at every run (Debian/Ubuntu plocate: 12 h). */
      readonly randomizedDelaySec: number;
      /** AccuracySec: the run lands at a host-specific, stable point within this window (systemd.timer). */
      readonly accuracySec: number;
      readonly persistent: boolean;
    }
  | { readonly kind: 'none' };

/** Debian 12 and Ubuntu's plocate-updatedb.timer as installed (RandomizedDelaySec=12h, AccuracySec=20min). */
export const PLOCATE_TIMER: UpdatedbSchedule = {
  kind: 'systemdTimer',
  unit: 'plocate-updatedb.timer',
  unitFile: '/lib/systemd/system/plocate-updatedb.timer',
  randomizedDelaySec: 12 * 3600,
  accuracySec: 20 * 60,
  persistent: true,
};
/** RHEL 8/9's mlocate-updatedb.timer (no random delay, AccuracySec=24h: a stable time of day per host). */
export const MLOCATE_TIMER: UpdatedbSchedule = {
  kind: 'systemdTimer',
  unit: 'mlocate-updatedb.timer',
  unitFile: '/usr/lib/systemd/system/mlocate-updatedb.timer',
  randomizedDelaySec: 0,
  accuracySec: 24 * 3600,
  persistent: true,
};
export const CRON_DAILY_0625: UpdatedbSchedule = { kind: 'cronDaily', minuteOfDay: 6 * 60 + 25 };
/** Amazon Linux 2's /etc/anacrontab: START_HOURS_RANGE=3-22, delay 5 minutes, RANDOM_DELAY=45. */
export const ANACRON_AL2: UpdatedbSchedule = {
  kind: 'anacron',
  startHour: 3,
  delayMinutes: 5,
  randomDelayMinutes: 45,
};

/** A uniform number in [0, 1) from integers: the same inputs give the same number, in any order of calls. */
export function hashUnit(seed: number, a: number, b = 0): number {
  return mix(mix(seed >>> 0, a | 0), b | 0) / 4_294_967_296;
}

/** Local wall-clock ↔ UTC for one host zone. */
export class HostZone {
  readonly timeZone: string;
  readonly #clock: ZoneClock;

  constructor(timeZone: string, fromMs: number, toMs: number) {
    this.timeZone = timeZone;
    this.#clock = zoneClock(timeZone, fromMs, toMs);
  }

  /** The local day number (days since 1970-01-01 on the zone's calendar) of an instant. */
  localDay(instant: number): number {
    return Math.floor((instant + this.#clock.offsetMs(instant)) / MS_PER_DAY);
  }

  /** Minutes since local midnight of an instant. */
  localMinute(instant: number): number {
    const wall = instant + this.#clock.offsetMs(instant);
    return (wall - Math.floor(wall / MS_PER_DAY) * MS_PER_DAY) / MS_PER_MINUTE;
  }

  /** The UTC instant of a local wall-clock time (`minute` minutes after midnight of `localDay`). */
  instantOf(localDay: number, minute: number): number {
    const wall = localDay * MS_PER_DAY + minute * MS_PER_MINUTE;
    return wall - this.#clock.offsetMs(wall - this.#clock.offsetMs(wall));
  }
}

const SALT_RANDOM_DELAY = 0x71;
const SALT_ACCURACY = 0x72;

/**
 * The instant the schedule starts updatedb on `localDay`, or null when nothing starts it. Draws are a
 * function of (seed, day), so a day's start never depends on which other days were asked for.
 */
export function scheduledStart(
  schedule: UpdatedbSchedule,
  localDay: number,
  seed: number,
  zone: HostZone,
): number | null {
  switch (schedule.kind) {
    case 'none':
      return null;
    case 'cronDaily':
      return zone.instantOf(localDay, schedule.minuteOfDay);
    case 'anacron': {
      const minute =
        schedule.startHour * 60 +
        1 +
        schedule.delayMinutes +
        hashUnit(seed, localDay, SALT_RANDOM_DELAY) * schedule.randomDelayMinutes;
      return zone.instantOf(localDay, minute);
    }
    case 'systemdTimer': {
      const stable = hashUnit(seed, 0, SALT_ACCURACY) * schedule.accuracySec;
      const random = hashUnit(seed, localDay, SALT_RANDOM_DELAY) * schedule.randomizedDelaySec;
      return zone.instantOf(localDay, 0) + (stable + random) * 1000;
    }
  }
}

/** The crontab-style text of a schedule's daily time, as diagnose.sh reads /etc/crontab (`25 6 * * *`). */
export function crontabTime(minuteOfDay: number): string {
  return `${minuteOfDay % 60} ${Math.floor(minuteOfDay / 60)} * * *`;
}
