/**
 * The report as one self-contained HTML page: inline CSS and SVG, no script, no font or image fetched (a
 * Content-Security-Policy of `default-src 'none'` says so to the browser too). Pure: the same model gives
 * the same bytes.
 */
import { formatBytes } from '#core/format.ts';
import { type Html, html, trusted } from './html.ts';
import type {
  CommandReport,
  DecisionReport,
  DiagnosisReport,
  FleetSummary,
  InstanceReport,
  MemoryReport,
  ReportModel,
  SavingsReport,
  VerificationReport,
} from './model.ts';
import { heatmapSvg, memorySvg } from './svg.ts';

const STYLE = `
:root { color-scheme: light; --ink: #1d232b; --muted: #5d6773; --line: #d5dae0; --bg: #f6f7f9; --ok: #1e7d3a; --bad: #b3261e; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 0 0 6px; } h3 { font-size: 14px; margin: 16px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
header p, .muted { color: var(--muted); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin-bottom: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .value { font-size: 20px; font-weight: 600; } .card .label { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
td.num, th.num { text-align: right; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #eef1f4; white-space: nowrap; }
.badge.updatedb-crawl, .badge.not-resolved, .badge.failed, .badge.escalated { background: #fde2df; color: var(--bad); }
.badge.daily-network-burst, .badge.memory-growth, .badge.inconclusive { background: #fff1d6; color: var(--warn); }
.badge.resolved, .badge.remediated, .badge.succeeded { background: #dff3e4; color: var(--ok); }
.tags { margin: 4px 0 8px; } .tag { display: inline-block; margin: 0 6px 4px 0; padding: 1px 6px; border: 1px solid var(--line); border-radius: 4px; font-size: 12px; }
figure { margin: 8px 0; } figcaption { color: var(--muted); font-size: 12px; }
svg { display: block; max-width: 100%; height: auto; font-size: 10px; font-family: inherit; }
svg .tick, svg .day { fill: var(--muted); } svg .day { text-anchor: end; } svg .day.invalid { fill: var(--bad); } svg .end { text-anchor: end; }
svg .grid { stroke: var(--line); stroke-width: 1; } svg .nodata { fill: #e4e7eb; }
svg .mark-window { fill: rgba(37, 99, 235, .08); stroke: #2563eb; stroke-width: 1.5; stroke-dasharray: 4 2; }
svg .mark-fix path, svg .mark-fix line { fill: none; stroke: #111; stroke-width: 2; } svg .fix-label { font-weight: 600; fill: #111; }
svg .series { fill: none; stroke: #4b6584; stroke-width: 1.2; } svg .trend { stroke: #b3261e; stroke-width: 2; }
svg .projection { stroke: #b3261e; stroke-width: 1.5; stroke-dasharray: 5 3; } svg .threshold { stroke: var(--warn); stroke-dasharray: 2 3; }
svg .crossing { fill: #fff; stroke: #b3261e; stroke-width: 2; } svg .restart-seen { fill: var(--muted); } svg .mark-restart { stroke: #111; stroke-width: 2; }
.note { color: var(--muted); font-size: 12px; margin: 2px 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; } dt { color: var(--muted); }
nav a { margin-right: 10px; }
`;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** The report page for a model. Every text from instances, tags and input is escaped (see html.ts). */
export function renderReport(model: ReportModel): string {
  const flagged = model.instances.filter((instance) => instance.flagged);
  const others = model.instances.filter((instance) => !instance.flagged);
  const anchor = new Map(model.instances.map((instance, index) => [instance, `instance-${index + 1}`]));
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${trusted(CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="crawlguard report, schema ${model.schemaVersion}">
<title>${model.title}</title>
<style>${trusted(STYLE)}</style>
</head>
<body>
<header>
<h1>${model.title}</h1>
<p>generated ${model.generatedAt} · ${model.source}</p>
</header>
${fleetSection(model.fleet, flagged, anchor)}
${flagged.map((instance) => instanceSection(instance, anchor.get(instance) ?? ''))}
${others.length === 0 ? null : othersSection(others)}
</body>
</html>
`;
  return page.value;
}

function fleetSection(
  fleet: FleetSummary,
  flagged: readonly InstanceReport[],
  anchor: ReadonlyMap<InstanceReport, string>,
): Html {
  const savings = fleet.savings;
  const savingsLabel =
    savings.basis === 'measured'
      ? 'saved per month (measured after the fix)'
      : savings.basis === 'estimated'
        ? 'would be saved per month (estimated from the detected crawls)'
        : savings.basis === 'mixed'
          ? 'saved or would be saved per month (measured and estimated)'
          : 'savings: nothing to estimate';
  const verdictTotal = fleet.verdicts.resolved + fleet.verdicts['not-resolved'] + fleet.verdicts.inconclusive;
  return html`<section id="fleet" data-section="fleet">
<h2>Fleet</h2>
<div class="cards">
<div class="card" data-figure="scanned"><div class="value">${fleet.scanned}</div><div class="label">instances scanned${fleet.notScanned.length > 0 ? `, ${fleet.notScanned.length} left out` : ''}</div></div>
<div class="card" data-figure="flagged"><div class="value">${fleet.flagged}</div><div class="label">flagged${fleet.byKind.length > 0 ? `: ${fleet.byKind.map((entry) => `${entry.count} ${entry.kind}`).join(', ')}` : ''}</div></div>
<div class="card" data-figure="commands">${
    fleet.commands.sent + fleet.commands.wouldSend === 0
      ? html`<div class="value">no command</div><div class="label">nothing sent to instances</div>`
      : html`<div class="value">${fleet.commands.sent} sent</div><div class="label">${fleet.commands.wouldSend} withheld by the dry run (would be sent)</div>`
  }</div>
<div class="card" data-figure="verdicts"><div class="value">${verdictTotal === 0 ? 'no verdict' : `${fleet.verdicts.resolved} resolved`}</div><div class="label">${verdictTotal === 0 ? 'nothing verified yet' : `${fleet.verdicts['not-resolved']} not resolved, ${fleet.verdicts.inconclusive} inconclusive`}</div></div>
<div class="card" data-figure="savings"><div class="value">${usd(savings.usdPerMonth)}</div><div class="label">${savingsLabel}: ${formatBytes(savings.bytesPerMonth)} and ${count(savings.requestsPerMonth)} S3 requests a month, ${savings.instances} instance(s)</div></div>
</div>
${
  flagged.length === 0
    ? html`<p>No instance was flagged.</p>`
    : html`<table data-table="flagged">
<thead><tr><th>instance</th><th>finding</th><th>why</th><th>decision</th><th>commands</th><th>verdict</th><th class="num">per month</th></tr></thead>
<tbody>${flagged.map(
        (instance) => html`<tr data-row-of="${instance.instanceId}">
<td><a href="#${anchor.get(instance) ?? ''}" class="mono">${instance.instanceId}</a>${instance.name === null ? null : html`<br><span class="muted">${instance.name}</span>`}</td>
<td><span class="badge ${instance.verdict}">${instance.verdict}</span></td>
<td>${instance.reason}</td>
<td>${instance.decision === null ? html`<span class="muted">—</span>` : html`${instance.decision.action} (${instance.decision.mode})${instance.decision.outcome === null ? null : html`<br><span class="badge ${instance.decision.outcome}">${instance.decision.outcome}</span>`}`}</td>
<td>${commandsBrief(instance.commands)}</td>
<td>${instance.verification === null ? html`<span class="muted">—</span>` : html`<span class="badge ${instance.verification.verdict}">${instance.verification.verdict}</span>`}</td>
<td class="num">${instance.savings === null ? '—' : `${usd(instance.savings.savedUsdPerMonth)}${instance.savings.basis === 'estimated' ? ' (est.)' : ''}`}</td>
</tr>`,
      )}</tbody></table>`
}
${
  fleet.notScanned.length === 0
    ? null
    : html`<h3>Left out</h3><ul>${fleet.notScanned.map((entry) => html`<li><span class="mono">${entry.instanceId}</span>: ${entry.reason}</li>`)}</ul>`
}
</section>`;
}

function commandsBrief(commands: readonly CommandReport[]): Html {
  if (commands.length === 0) return html`<span class="muted">—</span>`;
  return html`${commands.map(
    (command, index) =>
      html`${index > 0 ? html`<br>` : null}${command.step}${command.mode === null ? '' : ` ${command.mode}`}: ${command.sent ? (command.outcome ?? 'sent') : 'would be sent'}`,
  )}`;
}

function instanceSection(instance: InstanceReport, id: string): Html {
  const patchedAt = instance.fix?.patchedAt ?? null;
  const network = instance.networkOut;
  return html`<section id="${id}" class="instance" data-section="instance">
<h2><span class="mono">${instance.instanceId}</span>${instance.name === null ? null : html` — ${instance.name}`} <span class="badge ${instance.verdict}">${instance.verdict}</span></h2>
${instance.tags.length === 0 ? null : html`<div class="tags">${instance.tags.map((tag) => html`<span class="tag"><span class="mono">${tag.key}</span> = ${tag.value}</span>`)}</div>`}
<p data-field="reason">${instance.reason}</p>
${instance.missing.length === 0 ? null : html`<p class="note">not published: ${instance.missing.join(', ')}</p>`}
${instance.notes.map((note) => html`<p class="note" data-field="note">${note}</p>`)}
<h3>NetworkOut</h3>
<figure>
${heatmapSvg(instance.instanceId, network, patchedAt)}
<figcaption>${
    network === null
      ? 'no NetworkOut series'
      : html`Traffic over baseline (${formatBytes(network.baselineBytesPerMin)}/min), one row a day, time of day across (${network.timeZone}). ${network.verdict}: ${network.reason}`
  }</figcaption>
</figure>
${
  network === null || network.windows.length === 0
    ? null
    : html`<ul data-list="windows">${network.windows.map((window) => html`<li>${window.kind === 'daily-burst' ? 'daily burst' : 'window'} ${window.label}</li>`)}</ul>`
}
${instance.memory.map((memory) => memorySection(memory, instance.fix?.restartedAt ?? null))}
${instance.diagnosis === null ? null : diagnosisSection(instance.diagnosis)}
${instance.decision === null ? null : decisionSection(instance.decision)}
${instance.commands.length === 0 ? null : commandsSection(instance.commands)}
${instance.verification === null ? null : verificationSection(instance.verification)}
${instance.savings === null ? null : savingsSection(instance.savings)}
</section>`;
}

function memorySection(memory: MemoryReport, restartedAt: string | null): Html {
  // The reason already has the slope and the p-value; the date of the crossing is what it lacks.
  const projection =
    memory.projection === null
      ? ''
      : `; crosses ${memory.unit === 'percent' ? `${memory.projection.threshold} %` : formatBytes(memory.projection.threshold)} around ${memory.projection.reachesAt.slice(0, 10)}`;
  return html`<h3>${memory.metric === 's3fs-rss' ? 's3fs RSS' : 'mem_used_percent'}</h3>
<figure>
${memorySvg(memory, restartedAt)}
<figcaption><span class="badge ${memory.verdict === 'growth' ? 'memory-growth' : ''}">${memory.verdict}</span> ${memory.reason}${projection}</figcaption>
</figure>`;
}

function diagnosisSection(diagnosis: DiagnosisReport): Html {
  return html`<h3>Diagnosis</h3>
<dl data-section="diagnosis">
<dt>locate</dt><dd>${diagnosis.implementation ?? 'none found'}</dd>
<dt>schedule</dt><dd>${diagnosis.schedule ?? 'unknown'}</dd>
${diagnosis.plan === null ? null : html`<dt>plan</dt><dd><span class="badge">${diagnosis.plan.action}</span> ${diagnosis.plan.reason}${diagnosis.plan.pruneFsTypes.length === 0 ? null : html`<br>PRUNEFS += <code>${diagnosis.plan.pruneFsTypes.join(' ')}</code>`}${diagnosis.plan.prunePaths.length === 0 ? null : html`<br>PRUNEPATHS += <code>${diagnosis.plan.prunePaths.join(' ')}</code>`}${diagnosis.plan.restartMounts.length === 0 ? null : html`<br>restart <code>${diagnosis.plan.restartMounts.join(' ')}</code>`}</dd>`}
</dl>
${
  diagnosis.mounts.length === 0
    ? null
    : html`<table><thead><tr><th>mount</th><th>type</th><th>crawled by updatedb</th></tr></thead><tbody>${diagnosis.mounts.map(
        (mount) =>
          html`<tr><td class="mono">${mount.mountPoint}</td><td class="mono">${mount.type}</td><td>${mount.crawled === null ? 'unknown' : mount.crawled ? 'yes' : 'no'}${mount.reason === null ? null : html` <span class="muted">(${mount.reason})</span>`}</td></tr>`,
      )}</tbody></table>`
}`;
}

function decisionSection(decision: DecisionReport): Html {
  return html`<h3>Decision</h3>
<dl data-section="decision">
<dt>mode</dt><dd>${decision.mode}</dd>
<dt>decision</dt><dd><span class="badge">${decision.action}</span> by rule <code>${decision.rule}</code>${decision.code === null ? null : html` (<code>${decision.code}</code>)`}: ${decision.reason}</dd>
${decision.outcome === null ? null : html`<dt>outcome</dt><dd><span class="badge ${decision.outcome}">${decision.outcome}</span> ${decision.outcomeReason ?? ''}</dd>`}
</dl>`;
}

function commandsSection(commands: readonly CommandReport[]): Html {
  return html`<h3>Commands</h3>
<table data-section="commands"><thead><tr><th>step</th><th>document</th><th>mode</th><th>parameters</th><th>status</th><th>why</th></tr></thead><tbody>${commands.map(
    (command) => html`<tr data-step="${command.step}" data-sent="${command.sent ? 'true' : 'false'}">
<td>${command.step}</td><td class="mono">${command.document}</td><td>${command.mode ?? '—'}</td>
<td class="mono">${Object.entries(command.parameters).map(([key, values], index) => html`${index > 0 ? html`<br>` : null}${key}=${values.join(',')}`)}</td>
<td>${command.sent ? html`<span class="badge ${command.outcome ?? ''}">${command.outcome ?? 'sent'}</span>` : html`<span class="badge">would be sent</span>`}${command.at === null ? null : html`<br><span class="muted">${command.at}</span>`}</td>
<td>${command.reason}</td></tr>`,
  )}</tbody></table>`;
}

function verificationSection(verification: VerificationReport): Html {
  return html`<h3>Verdict</h3>
<p data-section="verdict"><span class="badge ${verification.verdict}">${verification.verdict}</span> ${verification.reason}${verification.at === null ? null : html` <span class="muted">(${verification.at})</span>`}</p>
<ul>
${verification.network === null ? null : html`<li>NetworkOut: <span class="badge ${verification.network.verdict}">${verification.network.verdict}</span> ${verification.network.reason}${verification.network.beforeBytesPerDay === null ? null : html` — ${formatBytes(verification.network.beforeBytesPerDay)}/day before, ${verification.network.afterBytesPerDay === null ? '?' : formatBytes(verification.network.afterBytesPerDay)}/day after`}</li>`}
${verification.memory === null ? null : html`<li>memory: <span class="badge ${verification.memory.verdict}">${verification.memory.verdict}</span> ${verification.memory.reason}</li>`}
</ul>`;
}

function savingsSection(savings: SavingsReport): Html {
  const row = (label: string, before: number, after: number, format: (value: number) => string) =>
    html`<tr><td>${label}</td><td class="num">${format(before)}</td><td class="num">${format(after)}</td><td class="num">${format(before - after)}</td></tr>`;
  const total = (cost: SavingsReport['before']) => cost.requestUsdPerMonth + cost.dataUsdPerMonth;
  return html`<h3>Savings (${savings.basis === 'measured' ? 'measured' : 'estimated if fixed'}, ${savings.dataPath})</h3>
<table data-section="savings"><thead><tr><th></th><th class="num">before</th><th class="num">after</th><th class="num">saved</th></tr></thead><tbody>
${row('bytes a month', savings.before.bytesPerDay * 30, savings.after.bytesPerDay * 30, formatBytes)}
${row('S3 requests a month', savings.before.requestsPerDay * 30, savings.after.requestsPerDay * 30, count)}
${row('USD a month (list prices)', total(savings.before), total(savings.after), usd)}
</tbody></table>`;
}

function othersSection(others: readonly InstanceReport[]): Html {
  return html`<section id="not-flagged" data-section="not-flagged">
<h2>Not flagged (${others.length})</h2>
<table><thead><tr><th>instance</th><th>verdict</th><th>why</th></tr></thead><tbody>${others.map(
    (instance) =>
      html`<tr data-row-of="${instance.instanceId}"><td class="mono">${instance.instanceId}${instance.name === null ? null : html`<br><span class="muted">${instance.name}</span>`}</td><td><span class="badge">${instance.verdict}</span></td><td>${instance.reason}</td></tr>`,
  )}</tbody></table>
</section>`;
}

function usd(value: number): string {
  return `$${value.toFixed(2)}`;
}

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
