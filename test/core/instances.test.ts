import { describe, expect, it } from 'vitest';
import { isInstanceId, isOptedIn, quote } from '#core/instances.ts';

describe('isInstanceId', () => {
  it.each(['i-12345678', 'i-12345678901234567', 'i-0c0ffee0000000001'])('%s is an instance id', (value) => {
    expect(isInstanceId(value)).toBe(true);
  });

  it.each([
    'i-1234567',
    'i-123456789012345678',
    'I-12345678',
    'i-1234567G',
    'i-12345678 ',
    ' i-12345678',
    'i-12345678\n',
    'i-12345678; rm -rf /',
    'i-$(reboot)',
    'mi-12345678901234567',
    '',
    12345678,
    null,
    undefined,
    ['i-12345678'],
  ])('%j is not', (value) => {
    expect(isInstanceId(value)).toBe(false);
  });
});

describe('isOptedIn', () => {
  const optIn = { key: 'crawlguard:enabled', value: 'true' };

  it('needs the key and exactly the value', () => {
    expect(
      isOptedIn(
        [
          { key: 'Name', value: 'web' },
          { key: 'crawlguard:enabled', value: 'true' },
        ],
        optIn,
      ),
    ).toBe(true);
  });

  it.each(['True', 'TRUE', 'true ', ' true', 'true\n', 'yes', '*', 'tru?', 'true; rm -rf /', 'trué'])(
    'a tag value of %j is not opted in',
    (value) => {
      expect(isOptedIn([{ key: 'crawlguard:enabled', value }], optIn)).toBe(false);
    },
  );

  it('a differently spelt key is not opted in', () => {
    expect(isOptedIn([{ key: 'Crawlguard:Enabled', value: 'true' }], optIn)).toBe(false);
    expect(isOptedIn([], optIn)).toBe(false);
  });
});

describe('quote', () => {
  it('escapes control characters and truncates', () => {
    expect(quote('a\u0000b')).toBe('"a\\u0000b"');
    expect(quote('x'.repeat(100), 10)).toBe(`"${'x'.repeat(8)}…`);
    expect(quote(undefined)).toBe('undefined');
  });
});
