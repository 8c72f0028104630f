/**
 * Hand-written visit functions shaped like the generated ones (qapi-visit-*.c style), used by the
 * visitor tests: one body serves input, output and clone visitors.
 */
import type { Visitor } from '../../visitor.js';
import type { QObject } from '../../../qobject/qobject.js';

export const SAMPLE_MODES = ['off', 'on', 'auto'] as const;
export type SampleMode = (typeof SAMPLE_MODES)[number];

export interface SampleInner {
  x: number;
  name?: string;
}

export interface Sample {
  id: string;
  count: number;
  small: number;
  big: number | bigint;
  size: number | bigint;
  flag: boolean;
  ratio: number;
  mode: SampleMode;
  tags: string[];
  inner: SampleInner;
  list: SampleInner[];
  opt?: number;
  data: QObject;
  alt: number | bigint | string;
}

export function visitSampleInner(v: Visitor, name: string | null, obj?: SampleInner): SampleInner {
  v.startStruct(name);
  const out: SampleInner = { x: v.typeInt32('x', obj?.x) };
  if (v.optional('name', obj?.name !== undefined)) out.name = v.typeStr('name', obj?.name);
  v.checkStruct();
  v.endStruct();
  return out;
}

function visitStrList(v: Visitor, name: string | null, obj?: string[]): string[] {
  const n = v.startList(name, obj?.length);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(v.typeStr(null, obj?.[i]));
  v.checkList();
  v.endList();
  return out;
}

function visitSampleInnerList(v: Visitor, name: string | null, obj?: SampleInner[]): SampleInner[] {
  const n = v.startList(name, obj?.length);
  const out: SampleInner[] = [];
  for (let i = 0; i < n; i++) out.push(visitSampleInner(v, null, obj?.[i]));
  v.checkList();
  v.endList();
  return out;
}

/** An alternate of int and str, visited under the alternate's own name as QEMU does. */
function visitIntOrStr(v: Visitor, name: string, obj?: number | bigint | string): number | bigint | string {
  const t = v.startAlternate(name, obj);
  let out: number | bigint | string;
  switch (t) {
    case 'int':
      out = v.typeInt64(name, obj as number | bigint | undefined);
      break;
    case 'string':
      out = v.typeStr(name, obj as string | undefined);
      break;
    default:
      v.endAlternate();
      throw new Error(`Invalid parameter type for '${name}', expected: IntOrStr`);
  }
  v.endAlternate();
  return out;
}

export function visitSample(v: Visitor, name: string | null, obj?: Sample): Sample {
  v.startStruct(name);
  const out: Sample = {
    id: v.typeStr('id', obj?.id),
    count: v.typeUint32('count', obj?.count),
    small: v.typeInt8('small', obj?.small),
    big: v.typeUint64('big', obj?.big),
    size: v.typeSize('size', obj?.size),
    flag: v.typeBool('flag', obj?.flag),
    ratio: v.typeNumber('ratio', obj?.ratio),
    mode: v.typeEnum('mode', SAMPLE_MODES, obj?.mode) as SampleMode,
    tags: visitStrList(v, 'tags', obj?.tags),
    inner: visitSampleInner(v, 'inner', obj?.inner),
    list: visitSampleInnerList(v, 'list', obj?.list),
    data: null,
    alt: 0,
  };
  if (v.optional('opt', obj?.opt !== undefined)) out.opt = v.typeInt64('opt', obj?.opt) as number;
  out.data = v.typeAny('data', obj?.data);
  out.alt = visitIntOrStr(v, 'alt', obj?.alt);
  v.checkStruct();
  v.endStruct();
  return out;
}
