/**
 * Groups items into batches of at most `maxEntries` items and `maxBytes` bytes (sizes from `sizeOf`).
 * @throws RangeError when a single item is larger than `maxBytes`.
 */
export function batchBySize<T>(
  items: readonly T[],
  maxEntries: number,
  maxBytes: number,
  sizeOf: (item: T) => number,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (size > maxBytes) throw new RangeError(`an entry of ${size} bytes exceeds the ${maxBytes}-byte limit`);
    if (current.length === maxEntries || bytes + size > maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
