// NDJSON event framing for `send`/`recv --json-stream` (iperf3's --json-stream convention: one
// JSON object per line, `{"event": …, "data": …}`), and the reader the orchestrator uses on a
// child's stdout wherever the child runs. Pure: strings in, events out.

export type StreamEventName = 'start' | 'interval' | 'end' | 'error';

export interface StreamEvent {
  event: StreamEventName;
  data: unknown;
}

const NAMES: ReadonlySet<string> = new Set(['start', 'interval', 'end', 'error']);

/** One event as one line, newline included. */
export function frameEvent(event: StreamEventName, data: unknown): string {
  return JSON.stringify({ event, data }) + '\n';
}

/** A line that is not an event (a stray print, a truncated line): kept so the caller can show it. */
export interface StrayLine {
  stray: string;
}

/**
 * Cuts a byte stream into events. push() takes whatever arrived (chunks split lines anywhere)
 * and returns the complete lines' events; end() returns what the last, unterminated line held.
 */
export class NdjsonReader {
  private buf = '';

  push(chunk: string): Array<StreamEvent | StrayLine> {
    this.buf += chunk;
    const out: Array<StreamEvent | StrayLine> = [];
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const e = parseEventLine(line);
      if (e) out.push(e);
    }
    return out;
  }

  end(): Array<StreamEvent | StrayLine> {
    const rest = this.buf;
    this.buf = '';
    const e = parseEventLine(rest);
    return e ? [e] : [];
  }
}

/** null for a blank line. */
export function parseEventLine(line: string): StreamEvent | StrayLine | null {
  const t = line.trim();
  if (!t) return null;
  try {
    const o = JSON.parse(t) as unknown;
    if (o && typeof o === 'object' && !Array.isArray(o)) {
      const r = o as Record<string, unknown>;
      if (typeof r.event === 'string' && NAMES.has(r.event) && 'data' in r) return { event: r.event as StreamEventName, data: r.data };
    }
  } catch {
    /* not JSON: a stray line */
  }
  return { stray: t };
}

export const isEvent = (x: StreamEvent | StrayLine): x is StreamEvent => 'event' in x;
