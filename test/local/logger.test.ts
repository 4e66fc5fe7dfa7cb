import { describe, expect, it } from 'vitest';
import { LocalLogger, silentLogger } from '#shared/local/logger.ts';

describe('LocalLogger', () => {
  it('hands each structured log line to its sink, at or above its level', () => {
    const lines: string[] = [];
    const logger = new LocalLogger((line) => lines.push(line), 'WARN');
    logger.info('not shown');
    logger.warn('shown', { instanceId: 'i-0123456789abcdef0' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'WARN',
      message: 'shown',
      service: 'crawlguard',
      instanceId: 'i-0123456789abcdef0',
    });
  });

  it('can be silent', () => {
    expect(() => silentLogger().error('dropped')).not.toThrow();
  });
});
