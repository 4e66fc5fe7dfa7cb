import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  EC2Client,
  EC2ServiceException,
  type Reservation,
} from '@aws-sdk/client-ec2';
import { INSTANCE_ID_PATTERN } from '#core/instances.ts';
import type { SimInstance } from '../fleet-model.ts';
import { EC2_STATE_CODES } from '../host.ts';
import type { SimulatedInstances } from '../instances.ts';
import { type ClientMock, type SimulatedAws, serviceError } from './core.ts';

// EC2 accepts at most 200 values per filter and pages of 5 to 1000.
const MAX_FILTER_VALUES = 200;

const ec2Error = (name: string, message: string, status = 400) =>
  serviceError(EC2ServiceException, name, message, status);

/** EC2 DescribeInstances over the simulated instances: filters, wildcards, paging, throttling. */
export function simulateEc2(
  aws: SimulatedAws,
  instances: SimulatedInstances,
  options: { readonly describeInstancesPerSecond: number; readonly accountId: string },
): { readonly client: EC2Client; readonly mock: ClientMock } {
  const client = new EC2Client({ region: 'us-east-1' });
  const mock = aws.mock('ec2', client);
  aws.limit('DescribeInstances', options.describeInstancesPerSecond);
  mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) =>
    aws.serve('ec2', 'DescribeInstances', input, () => describe(input, instances, options.accountId), {
      throttle: () => ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503),
    }),
  );
  return { client, mock };
}

function describe(input: DescribeInstancesCommandInput, instances: SimulatedInstances, accountId: string) {
  if (input.InstanceIds !== undefined && input.MaxResults !== undefined) {
    throw ec2Error(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  }
  if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 1000)) {
    throw ec2Error(
      'InvalidParameterValue',
      `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
    );
  }
  for (const id of input.InstanceIds ?? []) {
    if (!INSTANCE_ID_PATTERN.test(id)) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
    if (instances.get(id) === undefined)
      throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
  }
  const filters = (input.Filters ?? []).map((filter) => {
    const values = filter.Values ?? [];
    if (values.length > MAX_FILTER_VALUES)
      throw ec2Error('FilterLimitExceeded', `The filter '${filter.Name}' has more than 200 values`);
    const name = filter.Name ?? '';
    if (
      !(
        name === 'instance-id' ||
        name === 'instance-state-name' ||
        name === 'tag-key' ||
        name.startsWith('tag:')
      )
    )
      throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    return { name, values };
  });
  const matches = (instance: SimInstance): boolean =>
    filters.every((filter) => {
      if (filter.name === 'instance-id') return filter.values.some((v) => wildcard(v, instance.instanceId));
      if (filter.name === 'instance-state-name')
        return filter.values.some((v) => wildcard(v, instances.stateOf(instance)));
      if (filter.name === 'tag-key')
        return instance.tags.some((t) => filter.values.some((v) => wildcard(v, t.Key)));
      const key = filter.name.slice(4);
      return instance.tags.some((t) => t.Key === key && filter.values.some((v) => wildcard(v, t.Value)));
    });
  const { page, nextToken } = pageOfMatches(
    candidates(input, filters, instances),
    matches,
    input.NextToken,
    input.MaxResults,
  );
  const reservations: Reservation[] = page.map((instance) => {
    const state = instances.stateOf(instance);
    return {
      ReservationId: `r-${instance.instanceId.slice(2)}`,
      OwnerId: accountId,
      Instances: [
        {
          InstanceId: instance.instanceId,
          State: { Name: state, Code: EC2_STATE_CODES[state] },
          Tags: instance.tags.map((tag) => ({ ...tag })),
          InstanceType: 'm5.large',
          ImageId: 'ami-0abcdef1234567890',
        },
      ],
    };
  });
  return { Reservations: reservations, NextToken: nextToken, $metadata: {} };
}

/**
 * One page of the candidates that match, from the token's position in the candidates (not in the
 * matches): each page scans on from where the last one stopped, so listing a fleet is linear in its size
 * rather than filtering the whole fleet again for every page.
 */
function pageOfMatches(
  all: readonly SimInstance[],
  matches: (instance: SimInstance) => boolean,
  token: string | undefined,
  maxResults: number | undefined,
): { page: SimInstance[]; nextToken: string | undefined } {
  let position = 0;
  if (token !== undefined) {
    const match = /^ec2:(\d+)$/.exec(Buffer.from(token, 'base64').toString());
    if (match === null) throw ec2Error('InvalidParameterValue', 'Invalid value for NextToken');
    position = Number(match[1]);
  }
  const size = maxResults ?? Number.POSITIVE_INFINITY;
  const page: SimInstance[] = [];
  for (; position < all.length && page.length < size; position += 1) {
    const instance = all[position] as SimInstance;
    if (matches(instance)) page.push(instance);
  }
  // EC2 sends a token only when more results follow: look ahead to the next match.
  while (position < all.length && !matches(all[position] as SimInstance)) position += 1;
  const nextToken = position < all.length ? Buffer.from(`ec2:${position}`).toString('base64') : undefined;
  return { page, nextToken };
}

/** The instances a request can match, looked up by id when it names ids exactly (no scan of the fleet). */
function candidates(
  input: DescribeInstancesCommandInput,
  filters: readonly { readonly name: string; readonly values: readonly string[] }[],
  instances: SimulatedInstances,
): readonly SimInstance[] {
  const exact =
    input.InstanceIds ??
    filters.find((f) => f.name === 'instance-id' && f.values.every((v) => !/[*?]/.test(v)))?.values;
  if (exact === undefined) return instances.all;
  return instances.named(exact);
}

/** EC2 filter values: `*` any run of characters, `?` any one character, case-sensitive. */
export function wildcard(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(value);
}
