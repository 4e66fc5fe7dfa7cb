import { describe, expect, it } from 'vitest';
import { escapeHtml, html, trusted } from '#shared/report/html.ts';
import type { InstanceReport, ReportModel } from '#shared/report/model.ts';
import { renderReport } from '#shared/report/render.ts';
import { HEATMAP, heatmapSvg, heatmapX, localPlace } from '#shared/report/svg.ts';
import { FIXED_AT, fixtureModel, HOSTILE } from '#test/support/report-fixture.ts';

const model = fixtureModel();
const page = renderReport(model);
/** Every start tag of the page: outside them, a '<' can only be an entity. */
const tags = [...page.matchAll(/<([a-zA-Z][\w-]*)([^>]*)>/g)].map((m) => ({
  name: (m[1] ?? '').toLowerCase(),
  attributes: m[2] ?? '',
  // Attribute names only: every quoted value emptied (a value cannot hold a '"': it would be &quot;).
  names: (m[2] ?? '').replace(/"[^"]*"/g, '""'),
}));
const ELEMENTS = new Set(
  'html head meta title style body header h1 h2 h3 p section div span a br table thead tbody tr th td ul li dl dt dd code figure figcaption svg g line rect text path circle'.split(
    ' ',
  ),
);

describe('escaping', () => {
  it('turns markup characters into entities and controls into visible escapes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(escapeHtml('\u202eevil\u001b[2J')).toBe('\\u202eevil\\u001b[2J');
  });

  it('escapes every interpolated value unless it is markup made here', () => {
    const inner = html`<b>${'<i>'}</b>`;

    expect(html`<p title="${'"x"'}">${inner}${['<', trusted('<br>')]}${null}${false}${3}</p>`.value).toBe(
      '<p title="&quot;x&quot;"><b>&lt;i&gt;</b>&lt;<br>3</p>',
    );
  });
});

describe('renderReport', () => {
  it('holds one heatmap per flagged instance, named by its instance id', () => {
    const ids = [...page.matchAll(/<svg data-instance-id="([^"]*)"/g)].map((m) => m[1]);

    expect(ids).toEqual(
      model.instances
        .filter((instance) => instance.flagged)
        .map((instance) => escapeHtml(instance.instanceId)),
    );
    expect(ids).toHaveLength(4);
  });

  it('lets no hostile label, name or tag out of its text: no element, no attribute, no control character', () => {
    expect(tags.filter((tag) => !ELEMENTS.has(tag.name))).toEqual([]);
    expect(tags.filter((tag) => /\son\w+\s*=/i.test(tag.names))).toEqual([]);
    const unsafe = [...page].filter((char) => {
      const code = char.charCodeAt(0);
      const control = (code < 0x20 && char !== '\n') || (code >= 0x7f && code <= 0x9f);
      return control || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    });
    expect(unsafe).toEqual([]);
    expect(page).toContain(escapeHtml(HOSTILE.name));
    expect(page).toContain(escapeHtml(HOSTILE.value));
    expect(page).toContain(`data-instance-id="${escapeHtml(HOSTILE.label)}"`);
  });

  it('fetches nothing: no script, no external resource, and a policy that forbids them', () => {
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(tags.filter((tag) => /\s(src|srcset|xlink:href|action|formaction)\s*=/i.test(tag.names))).toEqual(
      [],
    );
    const links = tags.flatMap((tag) => [...tag.attributes.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1]));
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !/^#instance-\d+$/.test(link ?? ''))).toEqual([]);
    const style = page.slice(page.indexOf('<style>'), page.indexOf('</style>'));
    expect(style).not.toMatch(/@import|url\(|@font-face/);
  });

  it('is the same for the same model, and for the model read back from JSON', () => {
    expect(renderReport(model)).toBe(page);
    expect(renderReport(JSON.parse(JSON.stringify(model)) as ReportModel)).toBe(page);
  });

  it('shows decision, commands and verdict only for instances that went through remediation', () => {
    const sections = page.split('<section ').slice(1);
    const of = (id: string) => sections.find((s) => s.includes(`data-instance-id="${id}"`)) ?? '';

    expect(of('i-0c1a77e1d0c5a00aa')).toMatch(
      /data-section="decision"[\s\S]*data-section="commands"[\s\S]*data-section="verdict"/,
    );
    expect(of('i-0c1a77e1d0c5a00bb')).toMatch(/data-step="restart" data-sent="false"/);
    expect(of('i-0c1a77e1d0c5a00cc')).not.toMatch(/data-section="(decision|commands|verdict)"/);
    expect(of('i-0c1a77e1d0c5a00cc')).toContain('no NetworkOut data to draw');
  });

  it('lists instances that were not flagged in a table, without pictures', () => {
    const notFlagged = page.slice(page.indexOf('id="not-flagged"'));

    expect(notFlagged).toContain('i-0c1a77e1d0c5a00dd');
    expect(notFlagged).not.toContain('<svg');
  });

  it('says so when nothing was flagged', () => {
    const empty = renderReport({
      ...model,
      instances: [],
      fleet: { ...model.fleet, flagged: 0, byKind: [] },
    });

    expect(empty).toContain('No instance was flagged.');
    expect(empty).not.toContain('<svg');
  });
});

describe('heatmap marks', () => {
  const fixed = model.instances.find(
    (instance) => instance.instanceId === 'i-0c1a77e1d0c5a00aa',
  ) as InstanceReport;

  it('outlines a window crossing midnight as two spans, to the end of the row and on from its start', () => {
    const hostile = model.instances.find(
      (instance) => instance.instanceId === HOSTILE.label,
    ) as InstanceReport;
    const svg = heatmapSvg(hostile.instanceId, hostile.networkOut, null).value;
    const spans = [...svg.matchAll(/data-mark="window"[^>]* x="([\d.]+)"[^>]* width="([\d.]+)"/g)].map(
      (m) => [Number(m[1]), Number(m[2])],
    );

    expect(spans).toEqual([
      [heatmapX(1370), heatmapX(1440) - heatmapX(1370)],
      [heatmapX(0), heatmapX(20) - heatmapX(0)],
    ]);
  });

  it('places the fix on its day and minute, in the heatmap zone', () => {
    const svg = heatmapSvg(fixed.instanceId, fixed.networkOut, fixed.fix?.patchedAt ?? null).value;
    const row = fixed.networkOut?.heatmap?.rows.findIndex((r) => r.day === '2026-11-16');

    expect(localPlace(new Date(FIXED_AT).toISOString(), 'UTC')).toEqual({ day: '2026-11-16', minute: 600 });
    expect(localPlace('2026-11-16T10:00:00Z', 'Asia/Seoul')).toEqual({ day: '2026-11-16', minute: 1140 });
    expect(row).toBe(14);
    expect(svg).toContain(
      `<line data-mark-part="fix-time" x1="${heatmapX(600)}" x2="${heatmapX(600)}" y1="${HEATMAP.plotTop + 14 * HEATMAP.rowHeight}"`,
    );
  });

  it('says in a note when the fix lies outside the days shown', () => {
    const svg = heatmapSvg(fixed.instanceId, fixed.networkOut, '2027-01-05T10:00:00Z').value;

    expect(svg).toContain('data-mark="fix" data-outside="after" data-day="2027-01-05" data-minute="600"');
    expect(svg).not.toContain('data-mark-part="fix-time"');
  });
});
