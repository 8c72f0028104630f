/**
 * The live machine as a tree, read through QMP: `qom-list` on a path gives its properties, and the
 * `child<...>` ones are its children (QEMU's composition tree, as `info qom-tree` prints it).
 */
export interface QomProperty {
  name: string;
  type: string;
}

export interface QomNode {
  name: string;
  path: string;
  /** The QOM type from the parent's `child<TYPE>` property. */
  type: string;
  properties: QomProperty[];
  children: QomNode[];
  /** Set when this node could not be listed. */
  error?: string;
}

export type QomList = (path: string) => Promise<QomProperty[]>;

function childType(t: string): string | null {
  const m = /^child<(.+)>$/.exec(t);
  return m ? m[1]! : null;
}

/** Walk the composition tree from `root`, at most `maxNodes` nodes, children sorted by name. */
export async function loadQomTree(
  list: QomList,
  root = '/machine',
  maxNodes = 400,
  rootType = 'machine',
): Promise<QomNode> {
  let budget = maxNodes;
  const visit = async (name: string, path: string, type: string): Promise<QomNode> => {
    budget--;
    const node: QomNode = { name, path, type, properties: [], children: [] };
    try {
      const props = await list(path);
      node.properties = props.filter((p) => !childType(p.type)).sort((a, b) => a.name.localeCompare(b.name));
      const kids = props.filter((p) => childType(p.type)).sort((a, b) => a.name.localeCompare(b.name));
      for (const k of kids) {
        if (budget <= 0) break;
        node.children.push(await visit(k.name, `${path === '/' ? '' : path}/${k.name}`, childType(k.type)!));
      }
    } catch (e) {
      node.error = e instanceof Error ? e.message : String(e);
    }
    return node;
  };
  return visit(root.split('/').pop() || '/', root, rootType);
}

/** Flatten for rendering, honouring collapsed paths. */
export function flattenTree(
  root: QomNode,
  collapsed: ReadonlySet<string>,
): { node: QomNode; depth: number }[] {
  const out: { node: QomNode; depth: number }[] = [];
  const walk = (n: QomNode, depth: number): void => {
    out.push({ node: n, depth });
    if (!collapsed.has(n.path)) for (const c of n.children) walk(c, depth + 1);
  };
  walk(root, 0);
  return out;
}
