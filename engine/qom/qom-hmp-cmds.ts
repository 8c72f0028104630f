/**
 * HMP views of QOM (qom/qom-hmp-cmds.c): `info qom-tree [path]`, `qom-list`, `qom-get`, `qom-set`.
 * Each returns the text the monitor prints.
 */
import { toJson } from '../qobject/json-writer.js';
import { QapiError } from '../qapi/error.js';
import type { QomObject } from './object.js';
import {
  containerGet,
  objectChildForeach,
  objectGetCanonicalPathComponent,
  objectGetRoot,
  objectGetTypename,
  objectPropertyParse,
  objectResolvePath,
} from './object.js';
import { qmpQomGet, qmpQomList } from './qom-qmp-cmds.js';

function printQomComposition(obj: QomObject, indent: number): string {
  const name = obj === objectGetRoot() ? '' : (objectGetCanonicalPathComponent(obj) ?? '');
  let out = `${' '.repeat(indent)}/${name} (${objectGetTypename(obj)})\n`;
  const children: { name: string; obj: QomObject }[] = [];
  objectChildForeach(
    obj,
    (c) => void children.push({ name: objectGetCanonicalPathComponent(c) ?? '', obj: c }),
  );
  // g_strcmp0: byte order, so "device[10]" sorts before "device[1]"
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const c of children) out += printQomComposition(c.obj, indent + 2);
  return out;
}

/** `info qom-tree [path]`: the composition tree below /machine (or `path`). */
export function formatQomTree(path?: string): string {
  let obj: QomObject;
  if (path !== undefined) {
    const amb = { ambiguous: false };
    const o = objectResolvePath(path, amb);
    if (!o)
      return amb.ambiguous
        ? `Warning: Path '${path}' is ambiguous.\n`
        : `Path '${path}' could not be resolved.\n`;
    obj = o;
  } else {
    obj = containerGet(objectGetRoot(), '/machine');
  }
  return printQomComposition(obj, 0);
}

/** HMP `qom-list [path]`: "name (type)" lines; "/" alone without a path. */
export function hmpQomList(path?: string): string {
  if (path === undefined) return '/\n';
  return qmpQomList({ path })
    .map((p) => `${p.name} (${p.type})\n`)
    .join('');
}

/** HMP `qom-get path property`: pretty JSON. */
export function hmpQomGet(path: string, property: string): string {
  return `${toJson(qmpQomGet({ path, property }), true)}\n`;
}

/** HMP `qom-set path property value` (value parsed as a string, as without -j). */
export function hmpQomSet(path: string, property: string, value: string): void {
  const obj = objectResolvePath(path);
  if (!obj) throw new QapiError(`Device '${path}' not found`, 'DeviceNotFound');
  objectPropertyParse(obj, property, value);
}
