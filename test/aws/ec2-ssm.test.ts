import 'aws-sdk-client-mock-vitest/extend';
import { DescribeInstancesCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { Ec2Instances } from '#aws/ec2.ts';
import { SsmInstances } from '#aws/ssm.ts';
import { VirtualClock } from '#shared/sim/virtual-clock.ts';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const id = (n: number) => `i-0${n.toString(16).padStart(16, '0')}`;
const signal = () => new AbortController().signal;
let clock: VirtualClock;
beforeEach(() => {
  ec2.reset();
  ssm.reset();
  clock = new VirtualClock(0, 3);
});

describe('Ec2Instances', () => {
  it('lists running instances with the opt-in tag across pages, with state, tags and owner', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [
          {
            OwnerId: '123456789012',
            Instances: [
              {
                InstanceId: id(1),
                State: { Name: 'running' },
                Tags: [{ Key: 'crawlguard:enabled', Value: 'true' }],
              },
            ],
          },
        ],
        NextToken: 't2',
      })
      .resolvesOnce({
        Reservations: [
          { OwnerId: '123456789012', Instances: [{ InstanceId: id(2), State: { Name: 'running' } }] },
        ],
      });
    const adapter = new Ec2Instances(new EC2Client({}), { clock });
    const pages = [];
    for await (const page of adapter.optedInPages({ key: 'crawlguard:enabled', value: 'true' }, signal()))
      pages.push(page);
    // One page per response, as they arrive.
    expect(pages).toEqual([
      [
        {
          instanceId: id(1),
          state: 'running',
          tags: [{ key: 'crawlguard:enabled', value: 'true' }],
          ownerId: '123456789012',
        },
      ],
      [{ instanceId: id(2), state: 'running', tags: [], ownerId: '123456789012' }],
    ]);
    expect(ec2).toHaveReceivedNthCommandWith(DescribeInstancesCommand, 1, {
      Filters: [
        { Name: 'tag:crawlguard:enabled', Values: ['true'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ],
      MaxResults: 1000,
      NextToken: undefined,
    });
    expect(ec2).toHaveReceivedNthCommandWith(DescribeInstancesCommand, 2, { NextToken: 't2' });
  });

  it('describes named instances by filter, 200 ids a call, so that an unknown id fails nothing', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const ids = Array.from({ length: 450 }, (_, n) => id(n));
    await new Ec2Instances(new EC2Client({}), { clock }).describe(ids, signal());
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 3);
    expect(ec2).toHaveReceivedNthCommandWith(DescribeInstancesCommand, 3, {
      Filters: [{ Name: 'instance-id', Values: ids.slice(400) }],
    });
    for (const call of ec2.commandCalls(DescribeInstancesCommand))
      expect(call.args[0].input.InstanceIds).toBeUndefined();
  });

  it('retries RequestLimitExceeded', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .rejectsOnce(
        new EC2ServiceException({
          name: 'RequestLimitExceeded',
          $fault: 'client',
          $metadata: { httpStatusCode: 503 },
        }),
      )
      .resolves({ Reservations: [] });
    await new Ec2Instances(new EC2Client({}), { clock }).describe([id(1)], signal());
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
  });
});

describe('SsmInstances', () => {
  it('asks for 50 instances a call and reads every page', async () => {
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce({
        InstanceInformationList: [{ InstanceId: id(1), PingStatus: 'Online' }],
        NextToken: 'n',
      })
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: id(2), PingStatus: 'ConnectionLost' }] })
      .resolves({ InstanceInformationList: [{ InstanceId: id(60), PingStatus: 'Inactive' }] });
    const ids = Array.from({ length: 70 }, (_, n) => id(n));
    const statuses = await new SsmInstances(new SSMClient({}), { clock }).pingStatuses(ids, signal());
    expect(statuses).toEqual(
      new Map([
        [id(1), 'Online'],
        [id(2), 'ConnectionLost'],
        [id(60), 'Inactive'],
      ]),
    );
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 3);
    expect(ssm).toHaveReceivedNthCommandWith(DescribeInstanceInformationCommand, 1, {
      Filters: [{ Key: 'InstanceIds', Values: ids.slice(0, 50) }],
      MaxResults: 50,
      NextToken: undefined,
    });
    expect(ssm).toHaveReceivedNthCommandWith(DescribeInstanceInformationCommand, 2, { NextToken: 'n' });
    expect(ssm).toHaveReceivedNthCommandWith(DescribeInstanceInformationCommand, 3, {
      Filters: [{ Key: 'InstanceIds', Values: ids.slice(50) }],
    });
  });
});
