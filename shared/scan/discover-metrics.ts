import { METRIC_KINDS, METRIC_SPECS, type MetricSelection, selectMetrics } from '#core/metrics.ts';
import type { MetricCatalog } from '#shared/ports.ts';

/**
 * Lists the three metrics once for the whole fleet (never per instance) and keeps, for each instance,
 * the exact dimension set to query. With `instanceId`, lists only that instance's metrics (alarm path).
 */
export async function discoverMetrics(
  catalog: MetricCatalog,
  instanceIds: ReadonlySet<string>,
  signal: AbortSignal,
  instanceId?: string,
): Promise<MetricSelection> {
  const listed = [];
  for (const kind of METRIC_KINDS) {
    const { namespace, metricName } = METRIC_SPECS[kind];
    listed.push(
      ...(await catalog.list(
        { namespace, metricName, ...(instanceId === undefined ? {} : { instanceId }) },
        signal,
      )),
    );
  }
  return selectMetrics(listed, instanceIds);
}
