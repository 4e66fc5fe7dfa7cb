import 'aws-sdk-client-mock-vitest/extend';
import { DescribeDocumentCommand, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RetriesExhaustedError } from '#aws/retry.ts';
import { DocumentError, SsmDocuments } from '#aws/ssm.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

const ssm = mockClient(SSMClient);
const signal = () => new AbortController().signal;
const NAME = 'crawlguard-diagnose';
const throttled = () =>
  new SSMServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });
let clock: VirtualClock;
beforeEach(() => {
  ssm.reset();
  clock = new VirtualClock(0, 3);
});

describe('SsmDocuments', () => {
  it("answers the document's default version, and asks again only once the cache expired", async () => {
    ssm
      .on(DescribeDocumentCommand, { Name: NAME })
      .resolvesOnce({ Document: { Name: NAME, DefaultVersion: '3' } })
      .resolves({ Document: { Name: NAME, DefaultVersion: '4' } });
    const documents = new SsmDocuments(new SSMClient({}), { clock, cacheMs: 60_000 });
    expect(await documents.defaultVersion(NAME, signal())).toBe('3');
    expect(await documents.defaultVersion(NAME, signal())).toBe('3');
    expect(ssm).toHaveReceivedCommandTimes(DescribeDocumentCommand, 1);
    clock.advance(60_000);
    expect(await documents.defaultVersion(NAME, signal())).toBe('4');
    expect(ssm).toHaveReceivedCommandTimes(DescribeDocumentCommand, 2);
  });

  it('shares one call between concurrent lookups of a document', async () => {
    ssm.on(DescribeDocumentCommand).resolves({ Document: { Name: NAME, DefaultVersion: '7' } });
    const documents = new SsmDocuments(new SSMClient({}), { clock });
    const versions = await Promise.all(
      Array.from({ length: 50 }, () => documents.defaultVersion(NAME, signal())),
    );
    expect(new Set(versions)).toEqual(new Set(['7']));
    expect(ssm).toHaveReceivedCommandTimes(DescribeDocumentCommand, 1);
  });

  it('retries throttling, and does not remember a failure', async () => {
    ssm.on(DescribeDocumentCommand).rejects(throttled());
    const documents = new SsmDocuments(new SSMClient({}), { clock, retry: { maxAttempts: 3 } });
    await expect(documents.defaultVersion(NAME, signal())).rejects.toBeInstanceOf(RetriesExhaustedError);
    expect(ssm).toHaveReceivedCommandTimes(DescribeDocumentCommand, 3);
    ssm.reset();
    ssm.on(DescribeDocumentCommand).resolves({ Document: { Name: NAME, DefaultVersion: '2' } });
    expect(await documents.defaultVersion(NAME, signal())).toBe('2');
  });

  it('refuses a document without a default version, naming it', async () => {
    ssm.on(DescribeDocumentCommand).resolves({ Document: { Name: NAME } });
    const documents = new SsmDocuments(new SSMClient({}), { clock });
    const failure = documents.defaultVersion(NAME, signal());
    await expect(failure).rejects.toBeInstanceOf(DocumentError);
    await expect(failure).rejects.toThrow(NAME);
  });
});
