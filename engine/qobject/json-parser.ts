/**
 * parseJson(): one complete JSON text -> QObject, as QEMU's qobject_from_json() does it.
 *
 * It runs the same streamer the QMP server uses, so every lexical/syntax error carries QEMU's text,
 * plus the two whole-text errors of qobject_from_json(): "Expecting a JSON value" (nothing but
 * whitespace) and "Expecting at most one JSON value" (trailing values). QEMU's extensions are
 * accepted: 'single-quoted' strings and \' escapes. Integers beyond 2^53 come back as bigint,
 * beyond uint64 as double; dictionaries are null-prototype (qdict()); duplicate keys are an error.
 */
import { QapiError } from '../qapi/error.js';
import type { QObject } from './qobject.js';
import { JsonStreamer } from './json-streamer.js';

export function parseJson(text: string | Uint8Array): QObject {
  // Mirrors qjson.c consume_json(): the first error wins; a second value turns into an error.
  const st: { have: boolean; result: QObject; error: QapiError | null } = {
    have: false,
    result: null,
    error: null,
  };
  const streamer = new JsonStreamer((value, err) => {
    if (st.have) {
      st.have = false;
      st.result = null;
      st.error = new QapiError('Expecting at most one JSON value');
    }
    if (st.error) return;
    if (err) st.error = err;
    else {
      st.have = true;
      st.result = value;
    }
  });
  streamer.feed(text);
  streamer.flush();
  if (st.error) throw st.error;
  if (!st.have) throw new QapiError('Expecting a JSON value');
  return st.result;
}
