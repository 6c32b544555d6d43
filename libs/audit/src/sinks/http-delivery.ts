import { SinkDeliveryError } from './sink.errors';

export interface HttpResponse {
  status: number;
  retryAfterMs?: number;
  /** At most the first 4 KiB of the body: enough for an error code, never echoed into messages wholesale. */
  body: string;
}

/**
 * POSTs a body. A network failure or timeout is `retryable`. The error names the endpoint by origin and path
 * only, so a credential in the URL (which the config refuses anyway) could not leak through it.
 */
export async function post(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
): Promise<HttpResponse> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new SinkDeliveryError('retryable', `${endpoint(url)} unreachable (${cause})`);
  }
  const text = await response.text().catch(() => '');
  return { status: response.status, retryAfterMs: retryAfterMs(response.headers.get('retry-after')), body: text.slice(0, 4096) };
}

export function endpoint(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Retry-After is either seconds or an HTTP date (RFC 9110 10.2.3). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A run of consecutive records [start, end) sent as one request, or one record too big to send at all. */
export interface Chunk {
  start: number;
  end: number;
  body: Buffer;
  oversize?: boolean;
}

export interface ChunkLimits {
  maxBytes: number;
  maxItems: number;
  /** Largest single item; defaults to maxBytes minus the envelope. */
  maxItemBytes?: number;
}

/**
 * Packs serialized items into request bodies under the receiver's limits, keeping their order. `open`, `sep` and
 * `close` make the envelope (`[`, `,`, `]` for a JSON array; ``, `\n`, `` for newline-separated events).
 */
export function chunkItems(items: Buffer[], limits: ChunkLimits, open = '', sep = '\n', close = ''): Chunk[] {
  const envelope = Buffer.byteLength(open) + Buffer.byteLength(close);
  const sepBytes = Buffer.byteLength(sep);
  const maxItem = Math.min(limits.maxItemBytes ?? Infinity, limits.maxBytes - envelope);
  const chunks: Chunk[] = [];
  let start = 0;
  let size = envelope;
  const flush = (end: number) => {
    if (end > start) {
      const parts: Buffer[] = [Buffer.from(open)];
      items.slice(start, end).forEach((b, i) => parts.push(...(i ? [Buffer.from(sep), b] : [b])));
      parts.push(Buffer.from(close));
      chunks.push({ start, end, body: Buffer.concat(parts) });
    }
    start = end;
    size = envelope;
  };
  items.forEach((item, i) => {
    if (item.length > maxItem) {
      flush(i);
      chunks.push({ start: i, end: i + 1, body: Buffer.alloc(0), oversize: true });
      start = i + 1;
      return;
    }
    const added = (i > start ? sepBytes : 0) + item.length;
    if (i > start && (size + added > limits.maxBytes || i - start >= limits.maxItems)) flush(i);
    size += (i > start ? sepBytes : 0) + item.length;
  });
  flush(items.length);
  return chunks;
}

/** Sends chunks in order; a failure reports how many records before it were delivered, and which one was bad. */
export async function deliverChunks(chunks: Chunk[], send: (chunk: Chunk) => Promise<void>, limitText: string): Promise<void> {
  for (const chunk of chunks) {
    if (chunk.oversize) {
      throw new SinkDeliveryError('too-large', `record is larger than ${limitText}`, { delivered: chunk.start, rejectedIndex: chunk.start });
    }
    try {
      await send(chunk);
    } catch (e) {
      throw e instanceof SinkDeliveryError ? e.shifted(chunk.start) : e;
    }
  }
}
