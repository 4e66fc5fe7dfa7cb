import { formatBytes } from '#core/format.ts';
import type { MemoryAnalysis } from '#core/memory.ts';
import type { NetworkOutAnalysis, NetworkOutProfile } from '#core/network-out/index.ts';
import type { DroppedPoints, MetricSeries } from '#core/series.ts';
import { escapeControl } from '#core/text.ts';
import { formatClock, MS_PER_DAY } from '#core/time-zone.ts';

const SHADES = [' ', '░', '▒', '▓', '█'];
const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * A readable report of one NetworkOut analysis, with a day × time-of-day heatmap of the excess traffic.
 * Text from the input (label, time zone) is escaped: it cannot act on the terminal or forge a line.
 */
export function renderNetworkOut(label: string, analysis: NetworkOutAnalysis): string {
  const zone = escapeControl(analysis.timeZone);
  const lines = [
    `${escapeControl(label)}  network-out  ${analysis.verdict.toUpperCase()}`,
    `  ${escapeControl(analysis.reason)}`,
  ];
  for (const window of analysis.windows) {
    lines.push(
      `  window ${window.start}–${window.end} ${zone}: ${window.daysWithSpike}/${window.daysObserved} days, ` +
        `${formatBytes(window.extraBytesPerDay)}/day over baseline, ~${window.typicalDurationMinutes} min at ` +
        `+${formatBytes(window.typicalExcessBytesPerMin)}/min, confidence ${window.confidence}`,
    );
  }
  const burst = analysis.dailyBurst;
  if (burst !== null) {
    lines.push(
      `  daily burst starting ${burst.earliestStart}–${burst.latestStart} ${zone}: ${burst.daysWithBurst}/${burst.daysObserved} days, ` +
        `~${burst.typicalDurationMinutes} min, ${formatBytes(burst.typicalBytes)}, size spread ${burst.sizeSpread}`,
    );
  }
  const e = analysis.evidence;
  lines.push(
    `  ${e.datapoints} datapoints every ${e.periodSeconds / 60} min over ${e.daysObserved} days ` +
      `(${e.firstDay ?? '–'} … ${e.lastDay ?? '–'}); baseline ${formatBytes(e.baselineBytesPerMin)}/min, ` +
      `noise ${formatBytes(e.noiseBytesPerMin)}/min; ${e.bursts} bursts on ${e.daysWithBursts} days`,
  );
  // One row a day: concat, not push(...rows), which passes every row as an argument on the stack.
  return (analysis.profile === undefined ? lines : lines.concat(heatmap(analysis.profile, zone))).join('\n');
}

/**
 * A line on what the analysis left out ('' when nothing): negative or non-finite values, and datapoints
 * repeating a timestamp (pages or files that overlap), of which the first given was kept.
 */
export function renderDropped(dropped: DroppedPoints): string {
  const parts: string[] = [];
  const other = dropped.invalidPoints - dropped.negativePoints;
  if (dropped.negativePoints > 0) parts.push(plural(dropped.negativePoints, 'negative value'));
  if (other > 0)
    parts.push(plural(other, 'value that is not a finite number', 'values that are not finite numbers'));
  if (dropped.duplicatePoints > 0) {
    const conflicting = dropped.conflictingDuplicatePoints;
    parts.push(
      plural(dropped.duplicatePoints, 'repeated timestamp') +
        (conflicting === 0
          ? ' (same values)'
          : `, ${conflicting} of them with another value (the first given was kept)`),
    );
  }
  return parts.length === 0 ? '' : `\n  dropped: ${parts.join('; ')}`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Rows: days; columns: half hours; shade: the largest excess in the cell, relative to the largest overall. */
function heatmap(profile: NetworkOutProfile, timeZone: string): string[] {
  const cellsPerDay = 48;
  const slotsPerCell = Math.max(1, profile.slotsPerDay / cellsPerDay);
  const columns = Math.min(cellsPerDay, profile.slotsPerDay);
  const days = profile.validDays.length;
  let peak = 0;
  for (const value of profile.excessBytesPerMin) if (value > peak) peak = value;
  const firstDay = Date.parse(`${profile.firstDay}T00:00:00Z`) / MS_PER_DAY;
  const axis = Array.from({ length: columns }, (_, c) => {
    const minute = (c * 1440) / columns;
    return minute % 180 === 0 ? formatClock(minute).slice(0, 2) : c % 6 === 1 ? '' : ' ';
  }).join('');
  const lines = [
    `  heatmap (${timeZone}; █ = ${formatBytes(peak)}/min over baseline, · = no data)`,
    `             ${axis}`,
  ];
  for (let d = 0; d < days; d += 1) {
    let row = '';
    for (let c = 0; c < columns; c += 1) {
      let cell = Number.NEGATIVE_INFINITY;
      let seen = false;
      for (let s = c * slotsPerCell; s < (c + 1) * slotsPerCell; s += 1) {
        const value = profile.excessBytesPerMin[d * profile.slotsPerDay + s] as number;
        if (!Number.isNaN(value)) {
          seen = true;
          if (value > cell) cell = value;
        }
      }
      row += !seen ? '·' : shade(peak > 0 ? cell / peak : 0);
    }
    const date = new Date((firstDay + d) * MS_PER_DAY);
    lines.push(
      `  ${date.toISOString().slice(5, 10)} ${WEEKDAYS[date.getUTCDay()]} ${profile.validDays[d] ? ' ' : '?'}${row}`,
    );
  }
  return lines;
}

/** Blank below 5 % of the peak, so that baseline noise does not paint the whole map. */
function shade(fraction: number): string {
  if (fraction < 0.05) return SHADES[0] as string;
  return SHADES[Math.min(4, 1 + Math.floor(fraction * 4))] as string;
}

/** A readable report of one memory analysis, with a sparkline of the data and of the fitted trend (label escaped). */
export function renderMemory(label: string, analysis: MemoryAnalysis, series: MetricSeries): string {
  const show = (value: number): string =>
    analysis.unit === 'percent' ? `${value.toFixed(1)} %` : `${(value / 1_048_576).toFixed(1)} MiB`;
  const lines = [
    `${escapeControl(label)}  memory  ${analysis.verdict.toUpperCase()}`,
    `  ${escapeControl(analysis.reason)}`,
  ];
  if (analysis.slopePerDay !== null && analysis.significance !== null) {
    lines.push(
      `  slope ${analysis.unit === 'percent' ? `${analysis.slopePerDay} pp` : `${(analysis.slopePerDay / 1_048_576).toFixed(2)} MiB`}/day, ` +
        `Mann–Kendall p=${analysis.significance.pValue.toPrecision(2)} τ=${analysis.significance.kendallTau} (n=${analysis.significance.samples})` +
        (analysis.projection === null
          ? ''
          : `, reaches ${show(analysis.projection.threshold)} ~${analysis.projection.reachesAt.slice(0, 10)}`),
    );
  }
  if (analysis.restarts.length > 0) {
    lines.push(
      `  ${analysis.restarts.length} restart(s): ${analysis.restarts
        .slice(-5)
        .map((r) => `${r.at.slice(0, 16)} ${show(r.from)}→${show(r.to)}`)
        .join(', ')}`,
    );
  }
  lines.push(...sparklines(series, analysis, show));
  return lines.join('\n');
}

function sparklines(
  series: MetricSeries,
  analysis: MemoryAnalysis,
  show: (value: number) => string,
): string[] {
  const width = 64;
  const n = series.values.length;
  if (n === 0) return [];
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i += 1) {
    const t = series.timestamps[i] as number;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const span = Math.max(1, last - first);
  const sums = new Float64Array(width);
  const counts = new Uint32Array(width);
  for (let i = 0; i < n; i += 1) {
    const column = Math.min(
      width - 1,
      Math.floor((((series.timestamps[i] as number) - first) / span) * width),
    );
    sums[column] = (sums[column] as number) + (series.values[i] as number);
    counts[column] = (counts[column] as number) + 1;
  }
  const means = Array.from(sums, (sum, c) =>
    (counts[c] as number) > 0 ? sum / (counts[c] as number) : Number.NaN,
  );
  const segment = analysis.segment;
  const trend = means.map((_, c) => {
    if (segment === null || analysis.slopePerDay === null) return Number.NaN;
    const t = first + ((c + 0.5) / width) * span;
    const start = Date.parse(segment.start);
    return t < start ? Number.NaN : segment.levelAtStart + (analysis.slopePerDay * (t - start)) / MS_PER_DAY;
  });
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of [...means, ...trend]) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  const bar = (value: number): string =>
    Number.isNaN(value)
      ? ' '
      : (BARS[high > low ? Math.round(((value - low) / (high - low)) * 7) : 0] ?? ' ');
  return [
    `  data  ${means.map(bar).join('')}  ${show(low)} … ${show(high)}`,
    `  trend ${trend.map(bar).join('')}  ${new Date(first).toISOString().slice(0, 10)} → ${new Date(last).toISOString().slice(0, 10)}`,
  ];
}
