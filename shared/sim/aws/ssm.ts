import {
  DescribeInstanceInformationCommand,
  type DescribeInstanceInformationCommandInput,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { INSTANCE_ID_PATTERN } from '#core/instances.ts';
import type { SimulatedInstances } from '../instances.ts';
import { type ClientMock, paginate, type SimulatedAws, serviceError } from './core.ts';

export const ssmError = (name: string, message: string) => serviceError(SSMServiceException, name, message);

/** SSM's fleet view: DescribeInstanceInformation (PingStatus of managed, running instances). */
export function simulateSsm(
  aws: SimulatedAws,
  instances: SimulatedInstances,
  options: { readonly describeInstanceInformationPerSecond: number },
): { readonly client: SSMClient; readonly mock: ClientMock } {
  const client = new SSMClient({ region: 'us-east-1' });
  const mock = aws.mock('ssm', client);
  aws.limit('DescribeInstanceInformation', options.describeInstanceInformationPerSecond);
  mock.on(DescribeInstanceInformationCommand).callsFake((input: DescribeInstanceInformationCommandInput) =>
    aws.serve('ssm', 'DescribeInstanceInformation', input, () => describe(input, instances), {
      throttle: () => ssmError('ThrottlingException', 'Rate exceeded'),
    }),
  );
  return { client, mock };
}

function describe(input: DescribeInstanceInformationCommandInput, instances: SimulatedInstances) {
  const max = input.MaxResults ?? 10;
  if (max < 5 || max > 50) {
    throw ssmError(
      'ValidationException',
      `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 5 and 50`,
    );
  }
  let ids: readonly string[] | null = null;
  for (const filter of input.Filters ?? []) {
    if (filter.Key !== 'InstanceIds')
      throw ssmError('InvalidFilterKey', `filter key ${filter.Key} is not supported here`);
    for (const id of filter.Values ?? []) {
      if (!INSTANCE_ID_PATTERN.test(id))
        throw ssmError('InvalidInstanceInformationFilterValue', `${id} is not a valid instance id`);
    }
    ids = filter.Values ?? [];
  }
  // SSM leaves out unmanaged, stopped and terminated instances.
  const found = (ids === null ? instances.all : instances.named(ids)).filter(
    (instance) => instance.ssm !== null && instances.stateOf(instance) === 'running',
  );
  const { page, nextToken } = paginate(found, input.NextToken, max, 'ssm', () =>
    ssmError('InvalidNextToken', 'The specified token is not valid.'),
  );
  return {
    InstanceInformationList: page.map((instance) => ({
      InstanceId: instance.instanceId,
      PingStatus: instance.ssm ?? undefined,
      PlatformType: 'Linux' as const,
      ResourceType: 'EC2Instance' as const,
    })),
    NextToken: nextToken,
    $metadata: {},
  };
}
