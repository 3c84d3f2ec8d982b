// Server-sent events read incrementally, as the HTML standard's event-stream grammar describes them:
// lines end in CRLF, LF or CR (a CRLF may be split across chunks), `:` starts a comment (keep-alives),
// `data` lines join with newlines, a blank line dispatches. Runs wherever web streams do.

export interface SseMessage {
  /** `event:`; `message` when the server named none. */
  event: string;
  /** Every `data:` line of the event, joined with `\n`. */
  data: string;
  /** The last `id:` seen on the stream so far (it carries over to later events), or ''. */
  id: string;
  /** `retry:` in milliseconds, when this event set one. */
  retry?: number;
}

/** Source of bytes: a fetch body, or any async iterable of chunks (Node streams are one). */
export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

/** Turns a chunk of text into complete lines, holding back a partial last line for the next chunk. */
export class LineSplitter {
  #rest = '';
  /** A CR ended the last chunk: a LF opening the next one belongs to it. */
  #afterCr = false;

  push(text: string): string[] {
    let s = text;
    if (this.#afterCr && s.startsWith('\n')) s = s.slice(1);
    this.#afterCr = false;
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      lines.push(this.#rest + s.slice(start, i));
      this.#rest = '';
      if (c === 13) {
        if (i + 1 === s.length) this.#afterCr = true;
        else if (s.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#rest += s.slice(start);
    return lines;
  }
}

/** Builds events from lines; `line` returns an event when a blank line completes one. */
class SseDecoder {
  #data: string[] = [];
  #event = '';
  #id = '';
  #retry: number | undefined;

  line(line: string): SseMessage | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined; // a comment: keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default: // unknown fields are ignored
    }
    return undefined;
  }

  #dispatch(): SseMessage | undefined {
    const data = this.#data;
    const event = this.#event;
    const retry = this.#retry;
    this.#data = [];
    this.#event = '';
    this.#retry = undefined;
    // An event with no data line is not dispatched (the standard's rule); its id still counts.
    if (data.length === 0) return undefined;
    const msg: SseMessage = { event: event || 'message', data: data.join('\n'), id: this.#id };
    if (retry !== undefined) msg.retry = retry;
    return msg;
  }
}

async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array | string> {
  if (typeof (source as ReadableStream).getReader !== 'function') {
    yield* source as AsyncIterable<Uint8Array | string>;
    return;
  }
  const reader = (source as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // Reached when the consumer stops early too: cancelling closes the connection under the stream.
    await reader.cancel().catch(() => {});
  }
}

/**
 * The events of a stream, yielded as they complete. A partial event when the stream ends is dropped,
 * as the standard says: only a blank line makes an event whole. Stopping early (break) cancels the source.
 */
export async function* parseSse(source: ByteSource): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder('utf-8'); // also drops a leading byte-order mark
  const lines = new LineSplitter();
  const sse = new SseDecoder();
  for await (const chunk of chunksOf(source)) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (const line of lines.push(text)) {
      const msg = sse.line(line);
      if (msg) yield msg;
    }
  }
  for (const line of lines.push(decoder.decode())) {
    const msg = sse.line(line);
    if (msg) yield msg;
  }
}
