/**
 * The simulated account over HTTP on 127.0.0.1, so that a bundle runs as deployed — its own SDK clients,
 * signing, serialisation, the system clock — in a process of its own whose memory is its own, while the
 * simulated fleet lives in the bench's process. A request is decoded from its wire protocol (the JSON
 * protocols by `X-Amz-Target`, EC2's query protocol by `Action`), sent as the SDK command of that name
 * to the fleet's client, whose fakes answer as they do in the tests, and the answer (or the error)
 * encoded back. Point a process at it with `AWS_ENDPOINT_URL`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import * as ec2 from '@aws-sdk/client-ec2';
import * as eventbridge from '@aws-sdk/client-eventbridge';
import * as sfn from '@aws-sdk/client-sfn';
import * as sqs from '@aws-sdk/client-sqs';
import * as ssm from '@aws-sdk/client-ssm';
import type { AwsClients } from '#aws/clients.ts';

type Service = keyof AwsClients;
type Module = Record<string, unknown>;

// The JSON protocols' target prefixes, and the SDK module whose commands they name.
const TARGETS: Readonly<Record<string, { readonly service: Service; readonly module: Module }>> = {
  GraniteServiceVersion20100801: { service: 'cloudwatch', module: cloudwatch },
  AmazonSSM: { service: 'ssm', module: ssm },
  AmazonSQS: { service: 'sqs', module: sqs },
  AWSEvents: { service: 'eventbridge', module: eventbridge },
  DynamoDB_20120810: { service: 'dynamodb', module: dynamodb },
  AWSStepFunctions: { service: 'sfn', module: sfn },
};
// Items of a request counted apart (as `<operation>.<unit>`), by operation: the list field and its name.
const BILLED_ITEMS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  GetMetricData: [['MetricDataQueries', 'GetMetricData.metrics']],
  PutEvents: [['Entries', 'PutEvents.entries']],
  SendMessageBatch: [['Entries', 'SendMessageBatch.entries']],
};
// Timestamps the JSON protocols carry as epoch seconds, by operation.
const TIMESTAMP_INPUTS: Readonly<Record<string, readonly string[]>> = {
  GetMetricData: ['StartTime', 'EndTime'],
};

/** A running endpoint: its URL, what it answered, and how to stop it. */
export interface SimulatedEndpoint {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Requests answered, by operation (errors included). */
  readonly requests: ReadonlyMap<string, number>;
  /**
   * The intervals, as epoch milliseconds (`performance.timeOrigin + performance.now()`), during which
   * at least one request was being answered: time a caller spent waiting for AWS.
   */
  busy(): readonly (readonly [number, number])[];
  close(): Promise<void>;
}

/**
 * Serves `clients` (a simulated fleet's, or a local stack's) on 127.0.0.1, on a free port.
 * `beforeEach` runs before each request is answered (e.g. to bring the simulated clock to real time).
 */
export async function startSimulatedEndpoint(
  clients: AwsClients,
  beforeEach: () => void = () => undefined,
): Promise<SimulatedEndpoint> {
  const requests = new Map<string, number>();
  // Intervals during which some request was in flight, as [start, end] epoch milliseconds.
  const busy: [number, number][] = [];
  let inFlight = 0;
  let busySince = 0;
  const epochNow = () => performance.timeOrigin + performance.now();
  const server = createServer((request, response) => {
    if (inFlight === 0) busySince = epochNow();
    inFlight += 1;
    beforeEach();
    response.on('close', () => {
      inFlight -= 1;
      if (inFlight === 0) busy.push([busySince, epochNow()]);
    });
    void answer(clients, request, response, (operation) =>
      requests.set(operation, (requests.get(operation) ?? 0) + 1),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    busy: () => busy,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function answer(
  clients: AwsClients,
  request: IncomingMessage,
  response: ServerResponse,
  count: (operation: string) => void,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const target = request.headers['x-amz-target'];
  try {
    if (typeof target === 'string') await answerJson(clients, target, body, response, count);
    else await answerEc2Query(clients, body, response, count);
  } catch (error) {
    response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
  }
}

async function answerJson(
  clients: AwsClients,
  target: string,
  body: string,
  response: ServerResponse,
  count: (operation: string) => void,
): Promise<void> {
  const [prefix = '', operation = ''] = target.split('.');
  count(operation);
  const route = TARGETS[prefix];
  const Command = route?.module[`${operation}Command`] as (new (input: unknown) => unknown) | undefined;
  if (route === undefined || Command === undefined) {
    jsonError(response, 400, 'UnknownOperationException', `no such operation ${target}`);
    return;
  }
  const input = JSON.parse(body === '' ? '{}' : body) as Record<string, unknown>;
  // What is billed by the item: metrics requested from GetMetricData, events put on a bus.
  for (const [field, unit] of BILLED_ITEMS[operation] ?? [])
    for (let n = 0; n < ((input[field] as unknown[] | undefined)?.length ?? 0); n += 1) count(unit);
  for (const field of TIMESTAMP_INPUTS[operation] ?? [])
    if (typeof input[field] === 'number') input[field] = new Date((input[field] as number) * 1000);
  try {
    const client = clients[route.service] as { send(command: unknown): Promise<Record<string, unknown>> };
    const { $metadata: _, ...output } = await client.send(new Command(input));
    // Dates go out as epoch seconds, as the JSON protocols send timestamps (the replacer sees them after
    // toJSON made them strings, so the holder is asked for the original).
    const json = JSON.stringify(
      output,
      function (this: Record<string, unknown>, key: string, value: unknown) {
        const raw = this[key];
        return raw instanceof Date ? raw.getTime() / 1000 : value;
      },
    );
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(json);
  } catch (error) {
    const { name, message, status } = describeError(error);
    jsonError(response, status, name, message);
  }
}

function jsonError(response: ServerResponse, status: number, name: string, message: string): void {
  response
    .writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      // The awsQuery-compatible services (CloudWatch, SQS) name the error in this header.
      'x-amzn-query-error': `${name};Sender`,
    })
    .end(JSON.stringify({ __type: name, message }));
}

async function answerEc2Query(
  clients: AwsClients,
  body: string,
  response: ServerResponse,
  count: (operation: string) => void,
): Promise<void> {
  const form = new URLSearchParams(body);
  const action = form.get('Action') ?? '';
  count(action);
  if (action !== 'DescribeInstances') {
    ec2Error(response, 400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    return;
  }
  const filters: { Name: string; Values: string[] }[] = [];
  for (let f = 1; form.has(`Filter.${f}.Name`); f += 1) {
    const values: string[] = [];
    for (let v = 1; form.has(`Filter.${f}.Value.${v}`); v += 1)
      values.push(form.get(`Filter.${f}.Value.${v}`) ?? '');
    filters.push({ Name: form.get(`Filter.${f}.Name`) ?? '', Values: values });
  }
  const ids: string[] = [];
  for (let i = 1; form.has(`InstanceId.${i}`); i += 1) ids.push(form.get(`InstanceId.${i}`) ?? '');
  const max = form.get('MaxResults');
  const token = form.get('NextToken');
  try {
    const output = await clients.ec2.send(
      new ec2.DescribeInstancesCommand({
        ...(filters.length > 0 ? { Filters: filters } : {}),
        ...(ids.length > 0 ? { InstanceIds: ids } : {}),
        ...(max === null ? {} : { MaxResults: Number(max) }),
        ...(token === null ? {} : { NextToken: token }),
      }),
    );
    const reservations = (output.Reservations ?? []).map(
      (r) =>
        `<item><reservationId>${xml(r.ReservationId)}</reservationId><ownerId>${xml(r.OwnerId)}</ownerId><instancesSet>${(
          r.Instances ?? []
        )
          .map(
            (i) =>
              `<item><instanceId>${xml(i.InstanceId)}</instanceId><instanceState><code>${i.State?.Code ?? 0}</code><name>${xml(i.State?.Name)}</name></instanceState><instanceType>${xml(i.InstanceType)}</instanceType><imageId>${xml(i.ImageId)}</imageId><tagSet>${(
                i.Tags ?? []
              )
                .map((t) => `<item><key>${xml(t.Key)}</key><value>${xml(t.Value)}</value></item>`)
                .join('')}</tagSet></item>`,
          )
          .join('')}</instancesSet></item>`,
    );
    const next = output.NextToken === undefined ? '' : `<nextToken>${xml(output.NextToken)}</nextToken>`;
    response
      .writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' })
      .end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>00000000-0000-4000-8000-000000000000</requestId><reservationSet>${reservations.join('')}</reservationSet>${next}</DescribeInstancesResponse>`,
      );
  } catch (error) {
    const { name, message, status } = describeError(error);
    ec2Error(response, status, name, message);
  }
}

function ec2Error(response: ServerResponse, status: number, name: string, message: string): void {
  response
    .writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' })
    .end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xml(name)}</Code><Message>${xml(message)}</Message></Error></Errors><RequestID>00000000-0000-4000-8000-000000000000</RequestID></Response>`,
    );
}

function describeError(error: unknown): { name: string; message: string; status: number } {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return {
    name: e.name ?? 'InternalFailure',
    message: e.message ?? String(error),
    status: e.$metadata?.httpStatusCode ?? 400,
  };
}

function xml(text: string | undefined): string {
  return (text ?? '').replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string,
  );
}
