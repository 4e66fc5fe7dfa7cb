import type { AssessmentVerdict, FindingKind } from '#core/assessment.ts';
import { isInstanceId, type OptInTag, quote } from '#core/instances.ts';
import { metricWindow } from '#core/metrics.ts';
import { type AlarmStateChange, alarmInstance } from '#shared/events/alarm.ts';
import { instantMs } from '#shared/events/fields.ts';
import type { AlarmTriagePorts } from '#shared/ports.ts';
import { discoverMetrics } from './discover-metrics.ts';
import { type SkipReason, verifyInstances } from './eligibility.ts';
import { type ScanRuntime, scanInstances } from './scan.ts';

/** Tag on an alarm that names its instance, for alarms whose metrics do not (metric math, composite). */
export const ALARM_INSTANCE_TAG = 'crawlguard:instance-id';

export interface TriageSettings {
  readonly optIn: OptInTag;
  readonly lookbackDays: number;
  readonly region: string | null;
}

export type TriageDeps = AlarmTriagePorts & ScanRuntime;

/** What the alarm path concluded. */
export type TriageResult =
  | { readonly status: 'ignored'; readonly alarmName: string; readonly reason: string }
  | { readonly status: 'no-instance'; readonly alarmName: string; readonly reason: string }
  | {
      readonly status: 'skipped';
      readonly alarmName: string;
      readonly instanceId: string;
      readonly reason: SkipReason;
      readonly detail: string;
    }
  | {
      readonly status: 'not-confirmed';
      readonly alarmName: string;
      readonly instanceId: string;
      readonly verdict: AssessmentVerdict;
      readonly reason: string;
    }
  | {
      readonly status: 'confirmed';
      readonly alarmName: string;
      readonly instanceId: string;
      readonly finding: { readonly findingId: string; readonly kind: FindingKind; readonly summary: string };
    };

/**
 * The alarm path: an alarm that went into ALARM is confirmed (or not) by the detectors on the instance's
 * recent history, and a confirmed one becomes a finding. The instance must be opted in, running and
 * online in SSM, whatever the alarm says.
 */
export async function triageAlarm(
  event: AlarmStateChange,
  settings: TriageSettings,
  deps: TriageDeps,
  signal: AbortSignal,
): Promise<TriageResult> {
  const alarmName = event.detail.alarmName;
  const { state, previousState } = event.detail;
  if (state.value !== 'ALARM') {
    return {
      status: 'ignored',
      alarmName,
      reason: `transition ${previousState?.value ?? '?'} → ${state.value} is not into ALARM`,
    };
  }
  const alarmArn = event.resources[0];
  const named = alarmInstance(event);
  let instanceId: string;
  if (named.found === 'dimension') instanceId = named.instanceId;
  else if (named.found === 'ambiguous') {
    return {
      status: 'no-instance',
      alarmName,
      reason: `the alarm watches ${named.instanceIds.length} instances (${named.instanceIds.join(', ')}); triage needs one`,
    };
  } else {
    const tagged = (await deps.alarmTags.tagsOf(alarmArn, signal)).get(ALARM_INSTANCE_TAG);
    if (tagged === undefined) {
      return {
        status: 'no-instance',
        alarmName,
        reason: `${named.reason}, and the alarm has no ${ALARM_INSTANCE_TAG} tag`,
      };
    }
    if (!isInstanceId(tagged)) {
      return {
        status: 'no-instance',
        alarmName,
        reason: `the alarm's ${ALARM_INSTANCE_TAG} tag ${quote(tagged)} is not an instance id`,
      };
    }
    instanceId = tagged;
  }

  const verified = await verifyInstances(deps, settings.optIn, [instanceId], signal);
  const skipped = verified.skipped[0];
  const eligible = verified.eligible[0];
  if (eligible === undefined) {
    return {
      status: 'skipped',
      alarmName,
      instanceId,
      reason: skipped?.reason ?? 'unknown-instance',
      detail: skipped?.detail ?? 'not found',
    };
  }
  const selection = await discoverMetrics(deps.catalog, new Set([instanceId]), signal, instanceId);
  const outcome = await scanInstances(
    {
      targets: [{ ...eligible, metrics: selection.byInstance.get(instanceId) ?? {} }],
      window: metricWindow(deps.clock.now(), settings.lookbackDays),
      trigger: {
        type: 'alarm',
        runId: event.id,
        alarmName,
        alarmArn,
        stateChangedAt: new Date(instantMs(state.timestamp)).toISOString(),
      },
      region: settings.region ?? event.region,
    },
    deps,
    signal,
  );
  const finding = outcome.findings[0];
  const verdict = outcome.instanceVerdicts[0];
  if (finding !== undefined) {
    return {
      status: 'confirmed',
      alarmName,
      instanceId,
      finding: { findingId: finding.findingId, kind: finding.kind, summary: finding.summary },
    };
  }
  return {
    status: 'not-confirmed',
    alarmName,
    instanceId,
    verdict: verdict?.verdict ?? 'insufficient-data',
    reason: verdict?.reason ?? 'no verdict',
  };
}
