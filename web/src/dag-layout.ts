// A layered layout for the task DAG: each task's column is its longest path from a root, rows are ordered by
// the mean row of its dependencies (one barycentre pass), edges run from a dependency to its dependent.

export interface LayoutNode {
  name: string;
  layer: number;
  row: number;
}

export interface DagLayout {
  nodes: Map<string, LayoutNode>;
  edges: { from: string; to: string }[];
  layers: number;
  rows: number;
}

export function layoutDag(tasks: { name: string; dependsOn: string[] }[]): DagLayout {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (name: string): number => {
    const known = layer.get(name);
    if (known !== undefined) return known;
    // A cycle cannot come from the compiler; guard anyway so a bad plan cannot hang the page.
    if (visiting.has(name)) return 0;
    visiting.add(name);
    const deps = (byName.get(name)?.dependsOn ?? []).filter((d) => byName.has(d));
    const d = deps.length === 0 ? 0 : 1 + Math.max(...deps.map(depth));
    visiting.delete(name);
    layer.set(name, d);
    return d;
  };
  for (const t of tasks) depth(t.name);

  const layers: string[][] = [];
  for (const t of tasks) (layers[layer.get(t.name)!] ??= []).push(t.name);
  const rowOf = new Map<string, number>();
  for (const names of layers) {
    if (!names) continue;
    const weight = (n: string) => {
      const deps = byName.get(n)!.dependsOn.filter((d) => rowOf.has(d));
      return deps.length === 0 ? Infinity : deps.reduce((a, d) => a + rowOf.get(d)!, 0) / deps.length;
    };
    // Stable: tasks without placed dependencies keep their workflow order after the others.
    const ordered = names
      .map((n, i) => ({ n, i, w: weight(n) }))
      .sort((a, b) => (a.w === b.w ? a.i - b.i : a.w === Infinity ? 1 : b.w === Infinity ? -1 : a.w - b.w));
    ordered.forEach((o, row) => rowOf.set(o.n, row));
  }

  const nodes = new Map<string, LayoutNode>();
  for (const t of tasks)
    nodes.set(t.name, { name: t.name, layer: layer.get(t.name)!, row: rowOf.get(t.name)! });
  const edges = tasks.flatMap((t) =>
    t.dependsOn.filter((d) => byName.has(d)).map((d) => ({ from: d, to: t.name })),
  );
  return {
    nodes,
    edges,
    layers: layers.length,
    rows: Math.max(0, ...layers.map((l) => l?.length ?? 0)),
  };
}
