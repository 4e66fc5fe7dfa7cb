/**
 * A small in-memory S3 server, enough for s3fs (path-style requests, signatures not checked):
 * ListObjects v1/v2 (prefix, delimiter, marker, start-after, continuation-token, max-keys), HEAD,
 * GET with Range, PUT, CopyObject, DELETE, multipart upload (incl. UploadPartCopy).
 * It seeds a bucket WITHOUT folder-marker objects, as real buckets written by applications are: that is
 * what makes s3fs report 1969 directory mtimes, so that updatedb re-crawls everything every day.
 *
 * Run as a child process: `node test/e2e/s3-server.ts --host H --bucket B --dirs 30 --files 100`.
 * stdout line 1: {"event":"listening","port":N}. Then one JSON command per stdin line, one JSON answer
 * per stdout line: {"cmd":"stats"}, {"cmd":"get","key":K}, {"cmd":"delay","ms":N}.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
  contentType: string;
  meta: Record<string, string>;
}

interface Upload {
  key: string;
  parts: Map<number, Buffer>;
  contentType: string;
  meta: Record<string, string>;
}

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    bucket: { type: 'string', default: 'crawlguard-test' },
    dirs: { type: 'string', default: '30' },
    files: { type: 'string', default: '100' },
    log: { type: 'string' },
  },
});
const BUCKET = args.bucket;
const objects = new Map<string, StoredObject>();
const uploads = new Map<string, Upload>();
const counts: Record<string, number> = {};
let sortedKeys: string[] | null = null;
let delayMs = 0;

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const xml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function put(key: string, body: Buffer, contentType: string, meta: Record<string, string>, etag?: string) {
  objects.set(key, { body, etag: etag ?? `"${md5(body)}"`, lastModified: new Date(), contentType, meta });
  sortedKeys = null;
}

const seeded = new Date('2024-01-15T06:25:00Z');
for (let d = 0; d < Number(args.dirs); d++) {
  for (let f = 0; f < Number(args.files); f++) {
    const key = `dir-${String(d).padStart(2, '0')}/file-${String(f).padStart(3, '0')}.txt`;
    put(key, Buffer.from(`object ${key}\n`), 'text/plain', {});
    const stored = objects.get(key);
    if (stored !== undefined) stored.lastModified = seeded;
  }
}

function keys(): string[] {
  sortedKeys ??= [...objects.keys()].sort();
  return sortedKeys;
}

function count(kind: string) {
  counts[kind] = (counts[kind] ?? 0) + 1;
}

function metaFrom(req: IncomingMessage): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && typeof value === 'string') meta[name] = value;
  }
  return meta;
}

function send(res: ServerResponse, status: number, body = '', headers: Record<string, string | number> = {}) {
  const payload = Buffer.from(body);
  res.writeHead(status, {
    'x-amz-request-id': randomUUID(),
    'content-length': payload.length,
    ...(body === '' ? {} : { 'content-type': 'application/xml' }),
    ...headers,
  });
  res.end(payload);
}

function error(res: ServerResponse, status: number, code: string, head = false) {
  send(res, status, head ? '' : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code></Error>`);
}

function objectHeaders(o: StoredObject): Record<string, string | number> {
  return {
    etag: o.etag,
    'last-modified': o.lastModified.toUTCString(),
    'content-type': o.contentType,
    ...o.meta,
  };
}

/** ListObjects (v1) / ListObjectsV2 over the sorted keys, grouping by delimiter as S3 does. */
function list(q: URLSearchParams): string {
  const v2 = q.get('list-type') === '2';
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = Math.min(Number(q.get('max-keys') ?? '1000') || 1000, 1000);
  const token = q.get('continuation-token');
  const marker = v2
    ? token === null
      ? (q.get('start-after') ?? '')
      : Buffer.from(token, 'base64url').toString()
    : (q.get('marker') ?? '');
  const contents: string[] = [];
  const prefixes: string[] = [];
  let last = '';
  let truncated = false;
  for (const key of keys()) {
    if (!key.startsWith(prefix) || key <= marker) continue;
    let item = key;
    let isPrefix = false;
    if (delimiter !== '') {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        item = key.slice(0, at + delimiter.length);
        isPrefix = true;
        if (item <= marker || item === last) continue;
      }
    }
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    last = item;
    if (isPrefix) {
      prefixes.push(`<CommonPrefixes><Prefix>${xml(item)}</Prefix></CommonPrefixes>`);
    } else {
      const o = objects.get(key);
      if (o === undefined) continue;
      contents.push(
        `<Contents><Key>${xml(key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified>` +
          `<ETag>${xml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      );
    }
  }
  const paging = v2
    ? `<KeyCount>${contents.length + prefixes.length}</KeyCount>` +
      (token === null ? '' : `<ContinuationToken>${xml(token)}</ContinuationToken>`) +
      (truncated
        ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>`
        : '')
    : `<Marker>${xml(marker)}</Marker>${truncated ? `<NextMarker>${xml(last)}</NextMarker>` : ''}`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Name>${xml(BUCKET)}</Name><Prefix>${xml(prefix)}</Prefix>${paging}<MaxKeys>${maxKeys}</MaxKeys>` +
    `${delimiter === '' ? '' : `<Delimiter>${xml(delimiter)}</Delimiter>`}` +
    `<IsTruncated>${truncated}</IsTruncated>${contents.join('')}${prefixes.join('')}</ListBucketResult>`
  );
}

function copySource(req: IncomingMessage): StoredObject | undefined {
  const header = req.headers['x-amz-copy-source'];
  if (typeof header !== 'string') return undefined;
  const path = decodeURIComponent(header.split('?')[0] ?? '').replace(/^\//, '');
  return path.startsWith(`${BUCKET}/`) ? objects.get(path.slice(BUCKET.length + 1)) : undefined;
}

function range(header: string | undefined, size: number): [number, number] | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (m === null) return null;
  const [, a = '', b = ''] = m;
  if (a === '') return [Math.max(0, size - Number(b)), size - 1];
  return [Number(a), b === '' ? size - 1 : Math.min(Number(b), size - 1)];
}

async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer) {
  const url = new URL(req.url ?? '/', 'http://s3.test');
  const q = url.searchParams;
  const path = decodeURIComponent(url.pathname);
  const method = req.method ?? 'GET';
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  if (!path.startsWith(`/${BUCKET}`)) {
    count('OTHER');
    return error(res, 404, 'NoSuchBucket');
  }
  const key = path.slice(BUCKET.length + 2);
  if (key === '') {
    if (method === 'GET' && q.has('location')) {
      count('OTHER');
      return send(res, 200, '<?xml version="1.0" encoding="UTF-8"?><LocationConstraint/>');
    }
    if (method === 'GET' && q.has('uploads')) {
      count('OTHER');
      return send(res, 200, `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult/>`);
    }
    if (method === 'GET') {
      count('LIST');
      return send(res, 200, list(q));
    }
    count('OTHER');
    return send(res, 200);
  }
  const o = objects.get(key);
  const uploadId = q.get('uploadId');
  if (method === 'HEAD') {
    if (o === undefined) {
      count('HEAD_404');
      return error(res, 404, 'NoSuchKey', true);
    }
    count('HEAD');
    return send(res, 200, '', { ...objectHeaders(o), 'content-length': o.body.length });
  }
  if (method === 'GET') {
    if (o === undefined) {
      count('GET_404');
      return error(res, 404, 'NoSuchKey');
    }
    count('GET');
    const r = range(req.headers.range, o.body.length);
    if (r === null)
      return res.writeHead(200, { ...objectHeaders(o), 'content-length': o.body.length }).end(o.body);
    const [start, end] = r;
    return res
      .writeHead(206, {
        ...objectHeaders(o),
        'content-length': Math.max(0, end - start + 1),
        'content-range': `bytes ${start}-${end}/${o.body.length}`,
      })
      .end(o.body.subarray(start, end + 1));
  }
  if (method === 'PUT' && uploadId !== null) {
    const upload = uploads.get(uploadId);
    if (upload === undefined) {
      count('OTHER');
      return error(res, 404, 'NoSuchUpload');
    }
    let part = body;
    const source = copySource(req);
    if (source !== undefined) {
      const r = range(req.headers['x-amz-copy-source-range'] as string | undefined, source.body.length);
      part = r === null ? source.body : source.body.subarray(r[0], r[1] + 1);
    }
    upload.parts.set(Number(q.get('partNumber')), part);
    count('MPU_PART');
    const etag = `"${md5(part)}"`;
    if (source === undefined) return send(res, 200, '', { etag });
    return send(res, 200, `<CopyPartResult><ETag>${xml(etag)}</ETag></CopyPartResult>`);
  }
  if (method === 'PUT') {
    const source = copySource(req);
    if (source !== undefined) {
      count('COPY');
      const replace = req.headers['x-amz-metadata-directive'] === 'REPLACE';
      put(
        key,
        source.body,
        replace ? (req.headers['content-type'] ?? source.contentType) : source.contentType,
        replace ? metaFrom(req) : { ...source.meta },
        source.etag,
      );
      return send(
        res,
        200,
        `<CopyObjectResult><ETag>${xml(source.etag)}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyObjectResult>`,
      );
    }
    count('PUT');
    put(key, body, req.headers['content-type'] ?? 'application/octet-stream', metaFrom(req));
    return send(res, 200, '', { etag: objects.get(key)?.etag ?? '' });
  }
  if (method === 'POST' && q.has('uploads')) {
    count('MPU_INIT');
    const id = randomUUID();
    uploads.set(id, {
      key,
      parts: new Map(),
      contentType: req.headers['content-type'] ?? 'application/octet-stream',
      meta: metaFrom(req),
    });
    return send(
      res,
      200,
      `<InitiateMultipartUploadResult><Bucket>${xml(BUCKET)}</Bucket><Key>${xml(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
    );
  }
  if (method === 'POST' && uploadId !== null) {
    const upload = uploads.get(uploadId);
    if (upload === undefined) {
      count('OTHER');
      return error(res, 404, 'NoSuchUpload');
    }
    count('MPU_COMPLETE');
    const numbers = [...body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) =>
      Number(m[1]),
    );
    const parts = numbers.map((n) => upload.parts.get(n) ?? Buffer.alloc(0));
    const etag = `"${md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), 'hex'))))}-${parts.length}"`;
    put(upload.key, Buffer.concat(parts), upload.contentType, upload.meta, etag);
    uploads.delete(uploadId);
    return send(
      res,
      200,
      `<CompleteMultipartUploadResult><Bucket>${xml(BUCKET)}</Bucket><Key>${xml(key)}</Key><ETag>${xml(etag)}</ETag></CompleteMultipartUploadResult>`,
    );
  }
  if (method === 'DELETE' && uploadId !== null) {
    count('MPU_ABORT');
    uploads.delete(uploadId);
    return send(res, 204);
  }
  if (method === 'DELETE') {
    count('DELETE');
    objects.delete(key);
    sortedKeys = null;
    return send(res, 204);
  }
  count('OTHER');
  return error(res, 501, 'NotImplemented');
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (args.log !== undefined) appendFileSync(args.log, `${req.method} ${req.url}\n`);
    handle(req, res, Buffer.concat(chunks)).catch((cause: unknown) => {
      console.error('s3-server: request failed', cause);
      if (!res.headersSent) error(res, 500, 'InternalError');
    });
  });
});

const answer = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { cmd: string; key?: string; ms?: number };
  if (command.cmd === 'stats') {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    answer({ counts: { ...counts }, total, objects: objects.size });
  } else if (command.cmd === 'get') {
    const o = objects.get(command.key ?? '');
    answer(o === undefined ? { found: false } : { found: true, base64: o.body.toString('base64') });
  } else if (command.cmd === 'delay') {
    delayMs = command.ms ?? 0;
    answer({ delayMs });
  } else {
    answer({ error: `unknown command ${command.cmd}` });
  }
});
process.stdin.on('end', () => server.close(() => process.exit(0)));

server.listen(Number(args.port), args.host, () => {
  const address = server.address();
  answer({ event: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
});
