/**
 * Reading the live QOM composition tree over QMP: `qom-list` on a path gives its properties, and the
 * `child<TYPE>` ones are its children. Also the type hierarchy from `qom-list-types`, so "is this
 * object a bus / a device / an rng-backend" can be answered for any type the engine has.
 */
import type { QmpClientApi } from '../generated/qmp-client.js';

export interface QomObjectRef {
  path: string;
  name: string;
  type: string;
}

const CHILD = /^child<(.+)>$/;

/** The type of a `child<T>` property, or null for other properties. */
export function childType(propertyType: string): string | null {
  return CHILD.exec(propertyType)?.[1] ?? null;
}

export function joinPath(parent: string, name: string): string {
  return `${parent === '/' ? '' : parent}/${name}`;
}

/** Every object below `root` (root excluded), depth first, at most `limit` of them. */
export async function walkQom(qmp: QmpClientApi, root: string, limit = 2000): Promise<QomObjectRef[]> {
  const out: QomObjectRef[] = [];
  const visit = async (path: string): Promise<void> => {
    let props;
    try {
      props = await qmp.qomList({ path });
    } catch {
      return; // gone meanwhile (e.g. unplugged): skip it
    }
    for (const p of props) {
      const t = childType(p.type);
      if (!t || out.length >= limit) continue;
      const ref = { path: joinPath(path, p.name), name: p.name, type: t };
      out.push(ref);
      await visit(ref.path);
    }
  };
  await visit(root);
  return out;
}

/** Type name → parent type name, for ancestry checks. */
export class TypeHierarchy {
  private readonly parents = new Map<string, string | null>();

  constructor(types: readonly { name: string; parent?: string }[]) {
    for (const t of types) this.parents.set(t.name, t.parent ?? null);
  }

  static async load(qmp: QmpClientApi): Promise<TypeHierarchy> {
    return new TypeHierarchy(await qmp.qomListTypes({ abstract: true }));
  }

  /** `type` is `base` or derives from it (interfaces are not tracked: qom-list-types has no list of them). */
  isA(type: string, base: string): boolean {
    for (let t: string | null | undefined = type, n = 0; t && n < 64; t = this.parents.get(t), n++) {
      if (t === base) return true;
    }
    return false;
  }

  has(type: string): boolean {
    return this.parents.has(type);
  }
}
