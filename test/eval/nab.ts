import { readdirSync, readFileSync } from 'node:fs';
import type { MetricSeries } from '#core/series.ts';

const NAB_DIR = new URL('../fixtures/nab/', import.meta.url);

export interface NabSeries {
  readonly name: string;
  /** Bytes per period for byte series; percent (or counts) otherwise. */
  readonly unit: 'bytes' | 'percent' | 'count';
  readonly series: MetricSeries;
}

/** Every NAB CSV shipped in test/fixtures/nab, parsed. */
export function loadNab(): NabSeries[] {
  return readdirSync(NAB_DIR)
    .filter((file) => file.endsWith('.csv'))
    .sort()
    .map((file) => {
      const rows = readFileSync(new URL(file, NAB_DIR), 'utf8').trim().split('\n').slice(1);
      const timestamps: number[] = [];
      const values: number[] = [];
      for (const row of rows) {
        const [time, value] = row.split(',');
        timestamps.push(Date.parse(`${(time ?? '').replace(' ', 'T')}Z`));
        values.push(Number(value));
      }
      const name = file.replace(/\.csv$/, '');
      const unit = /network|NetworkIn|bytes/.test(name)
        ? 'bytes'
        : /request_count/.test(name)
          ? 'count'
          : 'percent';
      return { name, unit, series: { timestamps, values } };
    });
}

/** NetworkOut view of a NAB series: percent and counts scaled to bytes at 1 % (or 1 count) = 10 MB per period. */
export function asNetworkBytes(nab: NabSeries): MetricSeries {
  if (nab.unit === 'bytes') return nab.series;
  return { timestamps: nab.series.timestamps, values: Array.from(nab.series.values, (v) => v * 10_000_000) };
}
