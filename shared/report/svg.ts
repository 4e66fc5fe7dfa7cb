/**
 * The report's pictures as inline SVG: the NetworkOut heatmap (day × time of day) with the detected
 * windows and the fix marked, and the memory chart with its trend and projected crossing. Marks carry
 * `data-mark` and the figures they stand for, so a test (or a reader of the source) can find them.
 */
import { formatBytes } from '#core/format.ts';
import { formatClock, MS_PER_DAY, MS_PER_MINUTE, zoneClock } from '#core/time-zone.ts';
import { type Html, html } from './html.ts';
import type { Heatmap, MemoryReport, NetworkOutReport } from './model.ts';

/** Geometry of the heatmap, shared with the tests that check where marks land. */
export const HEATMAP = {
  plotX: 96,
  plotTop: 22,
  plotWidth: 720,
  rowHeight: 14,
  legendHeight: 34,
} as const;

// Sequential shades (light to dark) for 5 %, 25 %, 50 %, 75 % of the peak and above.
const SHADES = ['#fde9c9', '#fbbf77', '#f08a3e', '#d2501f', '#8f1d0b'] as const;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const n = (value: number): string => String(Math.round(value * 100) / 100);

/** x of a minute of the day on the heatmap. */
export function heatmapX(minute: number): number {
  return HEATMAP.plotX + (minute / 1440) * HEATMAP.plotWidth;
}

/** Shade index 0..5 of a value relative to the peak: 0 (blank) below 5 %, so noise does not paint the map. */
function shade(value: number, peak: number): number {
  if (peak <= 0) return 0;
  const fraction = value / peak;
  if (fraction < 0.05) return 0;
  if (fraction < 0.25) return 1;
  if (fraction < 0.5) return 2;
  if (fraction < 0.75) return 3;
  return fraction < 0.95 ? 4 : 5;
}

/** Where an instant falls on the heatmap: its row (local day) and minute of the day, in the zone. */
export function localPlace(instant: string, timeZone: string): { day: string; minute: number } | null {
  const ms = Date.parse(instant);
  if (!Number.isFinite(ms)) return null;
  const local = ms + zoneClock(timeZone, ms, ms).offsetMs(ms);
  return {
    day: new Date(Math.floor(local / MS_PER_DAY) * MS_PER_DAY).toISOString().slice(0, 10),
    minute: Math.floor((local % MS_PER_DAY) / MS_PER_MINUTE),
  };
}

/**
 * The heatmap of one instance: `<svg data-instance-id>` with a cell per slot and day (runs of equal shade
 * merged), the detected windows outlined (`data-mark="window"`) and the fix as a step line between the
 * days before and after it (`data-mark="fix"`). Without a heatmap, the same svg says there is no data.
 */
export function heatmapSvg(
  instanceId: string,
  network: NetworkOutReport | null,
  patchedAt: string | null,
): Html {
  const map = network?.heatmap ?? null;
  const rows = map?.rows.length ?? 0;
  const { plotX, plotTop, plotWidth, rowHeight, legendHeight } = HEATMAP;
  const plotHeight = Math.max(1, rows) * rowHeight;
  const width = plotX + plotWidth + 12;
  const height = plotTop + plotHeight + legendHeight;
  const common = html`data-instance-id="${instanceId}" data-chart="heatmap" data-plot-x="${plotX}" data-plot-width="${plotWidth}" data-plot-top="${plotTop}" data-row-height="${rowHeight}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"`;
  if (network === null || map === null || rows === 0) {
    return html`<svg ${common} aria-label="no NetworkOut data"><text x="${plotX}" y="${plotTop + 10}" class="muted">no NetworkOut data to draw</text></svg>`;
  }
  const peak = peakOf(map);
  const fix = patchedAt === null ? null : fixMark(map, network.timeZone, patchedAt);
  return html`<svg ${common} aria-label="NetworkOut over baseline, day by time of day (${network.timeZone})">
<g class="axis">${hourTicks(plotHeight)}</g>
<g class="cells">${map.rows.map((row, index) => rowCells(map, row, index, peak))}</g>
<g class="days">${map.rows.map((row, index) => dayLabel(row.day, row.valid, index))}</g>
${network.windows.map((window, index) => windowRects(window, index, plotHeight))}
${fix?.mark ?? null}
${legend(peak, plotTop + plotHeight + 8)}
</svg>${fix?.note ?? null}`;
}

function peakOf(map: Heatmap): number {
  let peak = 0;
  for (const row of map.rows)
    for (const value of row.excessBytesPerMin) if (value !== null && value > peak) peak = value;
  return peak;
}

function hourTicks(plotHeight: number): Html[] {
  const ticks: Html[] = [];
  for (let hour = 0; hour <= 24; hour += 3) {
    const x = n(heatmapX(hour * 60));
    ticks.push(
      html`<line x1="${x}" x2="${x}" y1="${HEATMAP.plotTop - 4}" y2="${HEATMAP.plotTop + plotHeight}" class="grid"/>`,
      hour < 24
        ? html`<text x="${x}" y="${HEATMAP.plotTop - 8}" class="tick">${formatClock(hour * 60)}</text>`
        : html``,
    );
  }
  return ticks;
}

function rowCells(map: Heatmap, row: Heatmap['rows'][number], index: number, peak: number): Html[] {
  const y = HEATMAP.plotTop + index * HEATMAP.rowHeight;
  const slotMinutes = 1440 / map.slotsPerDay;
  const cells: Html[] = [];
  let start = 0;
  const level = (slot: number): number => {
    const value = row.excessBytesPerMin[slot];
    return value === null || value === undefined ? -1 : shade(value, peak);
  };
  for (let slot = 1; slot <= map.slotsPerDay; slot += 1) {
    if (slot < map.slotsPerDay && level(slot) === level(start)) continue;
    const shadeIndex = level(start);
    if (shadeIndex !== 0) {
      const x = heatmapX(start * slotMinutes);
      const w = heatmapX(slot * slotMinutes) - x;
      cells.push(
        shadeIndex < 0
          ? html`<rect x="${n(x)}" y="${y}" width="${n(w)}" height="${HEATMAP.rowHeight}" class="nodata"/>`
          : html`<rect x="${n(x)}" y="${y}" width="${n(w)}" height="${HEATMAP.rowHeight}" fill="${SHADES[shadeIndex - 1] ?? ''}" data-shade="${shadeIndex}"/>`,
      );
    }
    start = slot;
  }
  return cells;
}

function dayLabel(day: string, valid: boolean, index: number): Html {
  const weekday = WEEKDAYS[new Date(`${day}T00:00:00Z`).getUTCDay()] ?? '';
  const y = HEATMAP.plotTop + index * HEATMAP.rowHeight + HEATMAP.rowHeight - 3;
  return html`<text x="${HEATMAP.plotX - 6}" y="${y}" class="day${valid ? '' : ' invalid'}">${valid ? '' : '? '}${day.slice(5)} ${weekday}</text>`;
}

/** The window's span on every row: one rect, or two when it crosses midnight. */
function windowRects(window: NetworkOutReport['windows'][number], index: number, plotHeight: number): Html {
  // An end at or before the start crosses midnight: the span runs to the end of the row and on from its start.
  const crosses = window.endMinute <= window.startMinute;
  const spans: (readonly [number, number])[] = crosses
    ? [[window.startMinute, 1440] as const, [0, window.endMinute] as const].filter(([from, to]) => to > from)
    : [[window.startMinute, window.endMinute]];
  return html`${spans.map(
    ([from, to]) =>
      html`<rect data-mark="window" data-window="${index}" data-kind="${window.kind}" data-start-minute="${window.startMinute}" data-end-minute="${window.endMinute}" x="${n(heatmapX(from))}" y="${HEATMAP.plotTop}" width="${n(heatmapX(to) - heatmapX(from))}" height="${plotHeight}" class="mark-window"><title>${window.kind === 'daily-burst' ? 'daily burst' : 'detected window'} ${formatClock(window.startMinute)}–${formatClock(window.endMinute)}: ${window.label}</title></rect>`,
  )}`;
}

/**
 * The fix on the heatmap: a step line from the fix's time of day on its day to the end of that row, down,
 * and along the next row back to its start: what lies after the line (reading order) is after the fix.
 * A fix outside the days shown is a note under the map.
 */
function fixMark(
  map: Heatmap,
  timeZone: string,
  patchedAt: string,
): { mark: Html | null; note: Html | null } {
  const place = localPlace(patchedAt, timeZone);
  if (place === null) return { mark: null, note: null };
  const row = map.rows.findIndex((r) => r.day === place.day);
  const label = `fix ${place.day} ${formatClock(place.minute)} (${timeZone})`;
  if (row < 0) {
    const after = place.day > (map.rows[map.rows.length - 1]?.day ?? '');
    return {
      mark: null,
      note: html`<p class="note" data-mark="fix" data-outside="${after ? 'after' : 'before'}" data-day="${place.day}" data-minute="${place.minute}">${label}: ${after ? 'after' : 'before'} the days shown</p>`,
    };
  }
  const { plotX, plotTop, plotWidth, rowHeight } = HEATMAP;
  const x = n(heatmapX(place.minute));
  const top = plotTop + row * rowHeight;
  const bottom = top + rowHeight;
  return {
    mark: html`<g data-mark="fix" data-day="${place.day}" data-minute="${place.minute}" data-row="${row}" class="mark-fix"><title>${label}</title><path d="M${x} ${top}H${plotX + plotWidth}M${x} ${top}V${bottom}H${plotX}"/><line data-mark-part="fix-time" x1="${x}" x2="${x}" y1="${top}" y2="${bottom}"/><text x="${x}" y="${top - 2}" class="fix-label">fix</text></g>`,
    note: null,
  };
}

function legend(peak: number, y: number): Html {
  const swatches = SHADES.map(
    (color, index) =>
      html`<rect x="${HEATMAP.plotX + index * 44}" y="${y}" width="40" height="10" fill="${color}"/>`,
  );
  const text = `5 % … 100 % of ${formatBytes(peak)}/min over baseline`;
  return html`<g class="legend">${swatches}<rect x="${HEATMAP.plotX + 5 * 44 + 6}" y="${y}" width="20" height="10" class="nodata"/><text x="${HEATMAP.plotX + 5 * 44 + 30}" y="${y + 9}" class="tick">no data</text><text x="${HEATMAP.plotX}" y="${y + 22}" class="tick">${text}</text><rect x="${HEATMAP.plotX + 5 * 44 + 90}" y="${y}" width="20" height="10" class="mark-window"/><text x="${HEATMAP.plotX + 5 * 44 + 114}" y="${y + 9}" class="tick">detected window</text></g>`;
}

/** Geometry of the memory chart. */
export const MEMORY_CHART = { left: 72, top: 14, width: 640, height: 160, bottom: 30, right: 16 } as const;

/**
 * The memory chart: hourly means, the fitted trend of the judged segment (`data-mark="trend"`), its
 * projection to the threshold and the crossing (`data-mark="crossing"`, at the chart's edge with
 * `data-beyond` when it lies further than the data's own span ahead), restarts and the fix's restart.
 */
export function memorySvg(memory: MemoryReport, restartedAt: string | null): Html {
  const { left, top, width, height, bottom, right } = MEMORY_CHART;
  const points = memory.points;
  const full = { w: left + width + right, h: top + height + bottom };
  const attributes = html`data-chart="memory" data-metric="${memory.metric}" width="${full.w}" height="${full.h}" viewBox="0 0 ${full.w} ${full.h}" role="img"`;
  if (points.length === 0) {
    return html`<svg ${attributes} aria-label="no memory data"><text x="${left}" y="${top + 20}" class="muted">no memory data to draw</text></svg>`;
  }
  const first = (points[0] as readonly [number, number])[0];
  const last = (points[points.length - 1] as readonly [number, number])[0];
  const span = Math.max(last - first, 3_600_000);
  const projection = memory.projection;
  const reachesAt = projection === null ? null : Date.parse(projection.reachesAt);
  // The chart reaches forward at most the data's own span: a crossing further out is drawn at the edge.
  const end =
    reachesAt === null || !Number.isFinite(reachesAt)
      ? last
      : Math.max(last, Math.min(reachesAt, last + span));
  const beyond = reachesAt !== null && reachesAt > end;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const [, value] of points) {
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  if (memory.trend !== null) {
    low = Math.min(low, memory.trend.from, memory.trend.to);
    high = Math.max(high, memory.trend.from, memory.trend.to);
  }
  if (projection !== null) high = Math.max(high, projection.threshold);
  if (high <= low) high = low + 1;
  const pad = (high - low) * 0.05;
  low -= pad;
  high += pad;
  const x = (t: number) => left + ((t - first) / Math.max(1, end - first)) * width;
  const y = (v: number) => top + height - ((v - low) / (high - low)) * height;
  const show = (value: number) =>
    memory.unit === 'percent' ? `${value.toFixed(1)} %` : `${(value / 1_048_576).toFixed(1)} MiB`;

  // Gaps over three hours break the line.
  let d = '';
  let previous = Number.NaN;
  for (const [t, v] of points) {
    d += `${t - previous > 3 * 3_600_000 || Number.isNaN(previous) ? 'M' : 'L'}${n(x(t))} ${n(y(v))}`;
    previous = t;
  }
  const trend = memory.trend;
  const trendEnd = trend === null ? null : { t: Date.parse(trend.end), v: trend.to };
  const slope =
    trend === null
      ? 0
      : (trend.to - trend.from) / Math.max(1, Date.parse(trend.end) - Date.parse(trend.start));
  const crossing =
    projection === null || reachesAt === null || trendEnd === null
      ? null
      : beyond
        ? { t: end, v: trendEnd.v + slope * (end - trendEnd.t) }
        : { t: reachesAt, v: projection.threshold };
  const restartX = restartedAt === null ? null : Date.parse(restartedAt);
  return html`<svg ${attributes} aria-label="${memory.metric} over time">
<g class="axis"><line x1="${left}" x2="${left}" y1="${top}" y2="${top + height}" class="grid"/><line x1="${left}" x2="${left + width}" y1="${top + height}" y2="${top + height}" class="grid"/>
<text x="${left - 6}" y="${n(y(high - pad))}" class="tick end">${show(high - pad)}</text><text x="${left - 6}" y="${n(y(low + pad))}" class="tick end">${show(low + pad)}</text>
<text x="${left}" y="${top + height + 18}" class="tick">${new Date(first).toISOString().slice(0, 10)}</text><text x="${left + width}" y="${top + height + 18}" class="tick end">${new Date(end).toISOString().slice(0, 10)}</text></g>
${projection === null ? null : html`<line data-mark="threshold" x1="${left}" x2="${left + width}" y1="${n(y(projection.threshold))}" y2="${n(y(projection.threshold))}" class="threshold"/><text x="${left + 4}" y="${n(y(projection.threshold) - 4)}" class="tick">threshold ${show(projection.threshold)}</text>`}
<path d="${d}" class="series"/>
${trend === null ? null : html`<line data-mark="trend" data-slope-per-day="${memory.slopePerDay ?? ''}" x1="${n(x(Date.parse(trend.start)))}" y1="${n(y(trend.from))}" x2="${n(x(Date.parse(trend.end)))}" y2="${n(y(trend.to))}" class="trend"><title>fitted trend ${show(trend.from)} → ${show(trend.to)}</title></line>`}
${crossing === null || trendEnd === null ? null : html`<line data-mark="projection" x1="${n(x(trendEnd.t))}" y1="${n(y(trendEnd.v))}" x2="${n(x(crossing.t))}" y2="${n(y(crossing.v))}" class="projection"/><circle data-mark="crossing" data-at="${projection?.reachesAt ?? ''}" data-beyond="${beyond ? 'true' : 'false'}" cx="${n(x(crossing.t))}" cy="${n(y(crossing.v))}" r="4" class="crossing"><title>reaches ${show(projection?.threshold ?? 0)} on ${projection?.reachesAt.slice(0, 10) ?? ''}${beyond ? ' (beyond the chart)' : ''}</title></circle>`}
${memory.restarts.map((restart) => {
  const t = Date.parse(restart.at);
  return t < first || t > end
    ? null
    : html`<path data-mark="restart-seen" d="M${n(x(t) - 4)} ${top}h8l-4 7z" class="restart-seen"><title>restart seen ${restart.at}: ${show(restart.from)} → ${show(restart.to)}</title></path>`;
})}
${restartX === null || !Number.isFinite(restartX) || restartX < first || restartX > end ? null : html`<line data-mark="restart" data-at="${restartedAt ?? ''}" x1="${n(x(restartX))}" x2="${n(x(restartX))}" y1="${top}" y2="${top + height}" class="mark-restart"><title>s3fs restarted by crawlguard ${restartedAt ?? ''}</title></line>`}
</svg>`;
}
