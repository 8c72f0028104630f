/**
 * The Devices tab's lazily expanded QOM tree: nodes are read one at a time (`qom.node`) when expanded
 * or selected; the visible rows follow from the loaded nodes and the set of expanded paths.
 */
import type { QomNodeInfo } from '../../../main/api/contract.js';

export interface TreeRow {
  path: string;
  name: string;
  type: string;
  depth: number;
  expanded: boolean;
  /** False once the node is loaded and has no children. */
  expandable: boolean;
  loaded: boolean;
}

export const TREE_ROOTS: readonly { path: string; type: string }[] = [
  { path: '/machine', type: 'machine' },
  { path: '/objects', type: 'container' },
];

export function treeRows(
  nodes: Readonly<Record<string, QomNodeInfo>>,
  expanded: ReadonlySet<string>,
  roots: readonly { path: string; type: string }[] = TREE_ROOTS,
): TreeRow[] {
  const out: TreeRow[] = [];
  const walk = (path: string, name: string, type: string, depth: number): void => {
    const node = nodes[path];
    const open = expanded.has(path);
    out.push({
      path,
      name,
      type: node?.type ?? type,
      depth,
      expanded: open,
      expandable: !node || node.children.length > 0,
      loaded: !!node,
    });
    if (open && node) for (const c of node.children) walk(c.path, c.name, c.type, depth + 1);
  };
  for (const r of roots) walk(r.path, r.path.slice(1), r.type, 0);
  return out;
}

/** Paths to re-read after the machine changed: every loaded node, parents first. */
export function pathsToRefresh(nodes: Readonly<Record<string, QomNodeInfo>>): string[] {
  return Object.keys(nodes).sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

/** Ids of the devices under /machine/peripheral (for the dialog's id check). */
export function peripheralIds(nodes: Readonly<Record<string, QomNodeInfo>>): Set<string> {
  return new Set(nodes['/machine/peripheral']?.children.map((c) => c.name) ?? []);
}

/** A value for display: strings as they are, other JSON compactly. */
export function formatValue(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}
