import { describe, expect, it } from 'vitest';
import { pages } from '#aws/paging.ts';

describe('pages', () => {
  it('follows NextToken until the service sends none, passing each token on', async () => {
    const asked: (string | undefined)[] = [];
    const tokens: Record<string, string | undefined> = { start: 'p2', p2: 'p3', p3: undefined };
    const seen: number[] = [];
    for await (const page of pages(async (token) => {
      asked.push(token);
      return { items: asked.length, NextToken: tokens[token ?? 'start'] };
    }))
      seen.push(page.items);
    expect(asked).toEqual([undefined, 'p2', 'p3']);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('ends on an empty token (some services send "" instead of nothing)', async () => {
    let calls = 0;
    for await (const _ of pages(async () => {
      calls += 1;
      return { NextToken: '' };
    }));
    expect(calls).toBe(1);
  });

  it('rejects with the fetch error, after the pages already yielded', async () => {
    const seen: string[] = [];
    const run = async () => {
      for await (const page of pages(async (token) => {
        if (token === 'bad') throw new Error('throttled for good');
        return { name: 'first', NextToken: 'bad' };
      }))
        seen.push(page.name);
    };
    await expect(run()).rejects.toThrow('throttled for good');
    expect(seen).toEqual(['first']);
  });
});
