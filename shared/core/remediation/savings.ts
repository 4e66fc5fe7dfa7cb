/**
 * What a fix saved: the crawl's bytes and S3 requests a day, before and after, and the money at list prices.
 * S3 request charges always apply; data charges depend on the path to S3: free through a gateway endpoint
 * (same region), charged per GB processed through a NAT gateway.
 */

/** How instances reach S3 (a stack parameter). */
export const DATA_PATHS = ['gateway-endpoint', 'nat-gateway'] as const;
export type DataPath = (typeof DATA_PATHS)[number];

/** List prices (us-east-1) used for the figures; approximate by design. */
export const LIST_PRICES = {
  /** S3 LIST requests, per 1,000. */
  listPer1000: 0.005,
  /** S3 HEAD/GET requests, per 1,000. */
  headPer1000: 0.0004,
  /** NAT gateway data processing, per GB. */
  natPerGb: 0.045,
} as const;

// A crawl of a bucket without folder markers (LAB.md, 3,000 objects): 295 LIST and 3,588 HEAD of 3,883
// requests, and about 557 bytes sent per request on the instance's interface (1,771,476 B / 3,181 in the e2e).
const LIST_SHARE = 295 / 3883;
export const BYTES_SENT_PER_REQUEST = 557;

export interface CrawlCost {
  readonly bytesPerDay: number;
  readonly requestsPerDay: number;
  /** Per 30-day month, US dollars. */
  readonly requestUsdPerMonth: number;
  readonly dataUsdPerMonth: number;
}

export interface Savings {
  readonly before: CrawlCost;
  readonly after: CrawlCost;
  readonly savedUsdPerMonth: number;
}

/**
 * The cost of a crawl from its measured bytes a day (and its S3 requests when the object count is known:
 * about 1.3 requests per object).
 */
export function crawlCost(bytesPerDay: number, path: DataPath, objects: number | null = null): CrawlCost {
  const bytes = Math.max(0, bytesPerDay);
  const requests = objects !== null ? objects * (3883 / 3000) : bytes / BYTES_SENT_PER_REQUEST;
  const perRequest =
    (LIST_SHARE * LIST_PRICES.listPer1000 + (1 - LIST_SHARE) * LIST_PRICES.headPer1000) / 1000;
  return {
    bytesPerDay: Math.round(bytes),
    requestsPerDay: Math.round(requests),
    requestUsdPerMonth: round2(requests * perRequest * 30),
    dataUsdPerMonth: path === 'nat-gateway' ? round2((bytes / 1e9) * LIST_PRICES.natPerGb * 30) : 0,
  };
}

/** Savings of one instance from its bytes a day over baseline before and after the fix. */
export function savingsOf(
  beforeBytesPerDay: number,
  afterBytesPerDay: number,
  path: DataPath,
  objects: number | null = null,
): Savings {
  const before = crawlCost(beforeBytesPerDay, path, objects);
  const after = crawlCost(
    afterBytesPerDay,
    path,
    objects === null ? null : (objects * afterBytesPerDay) / Math.max(1, beforeBytesPerDay),
  );
  const total = (cost: CrawlCost) => cost.requestUsdPerMonth + cost.dataUsdPerMonth;
  return { before, after, savedUsdPerMonth: round2(total(before) - total(after)) };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
