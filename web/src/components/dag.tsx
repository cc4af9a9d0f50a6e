// The run's tasks as a graph: a layered layout (dag-layout.ts) drawn in SVG, one node per task coloured by its
// status (and labelled with it), edges from each dependency; nodes are buttons (click, Enter or Space).
import { useMemo } from 'preact/hooks';
import { layoutDag } from '../dag-layout.ts';
import type { TaskResult } from '../api.ts';

const NODE_W = 168;
const NODE_H = 44;
const GAP_X = 56;
const GAP_Y = 18;
const PAD = 12;

export interface DagProps {
  tasks: TaskResult[];
  selected: string | undefined;
  onSelect: (task: string) => void;
}

export function Dag({ tasks, selected, onSelect }: DagProps) {
  const layout = useMemo(
    () => layoutDag(tasks.map((t) => ({ name: t.name, dependsOn: t.dependsOn }))),
    [tasks.map((t) => `${t.name}<${t.dependsOn.join(',')}`).join(';')],
  );
  const x = (layer: number) => PAD + layer * (NODE_W + GAP_X);
  const y = (row: number) => PAD + row * (NODE_H + GAP_Y);
  const width = PAD * 2 + layout.layers * NODE_W + Math.max(0, layout.layers - 1) * GAP_X;
  const height = PAD * 2 + layout.rows * NODE_H + Math.max(0, layout.rows - 1) * GAP_Y;
  const byName = new Map(tasks.map((t) => [t.name, t]));

  return (
    <div class="dag-scroll">
      <svg
        class="dag"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="group"
        aria-label="Task graph"
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
          </marker>
        </defs>
        {layout.edges.map((e) => {
          const a = layout.nodes.get(e.from)!;
          const b = layout.nodes.get(e.to)!;
          const x1 = x(a.layer) + NODE_W;
          const y1 = y(a.row) + NODE_H / 2;
          const x2 = x(b.layer);
          const y2 = y(b.row) + NODE_H / 2;
          const mx = (x1 + x2) / 2;
          return (
            <path
              key={`${e.from}->${e.to}`}
              class="dag-edge"
              d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`}
              marker-end="url(#arrow)"
            />
          );
        })}
        {[...layout.nodes.values()].map((n) => {
          const t = byName.get(n.name)!;
          const label = n.name.length > 20 ? n.name.slice(0, 19) + '…' : n.name;
          return (
            <g
              key={n.name}
              class={`dag-node status-${t.status}${selected === n.name ? ' selected' : ''}`}
              transform={`translate(${x(n.layer)},${y(n.row)})`}
              role="button"
              // Lowercase: on SVG elements Preact sets attributes, and only `tabindex` makes a <g> focusable.
              tabindex={0}
              aria-pressed={selected === n.name}
              aria-label={`task ${n.name}: ${t.status}`}
              data-task={n.name}
              onClick={() => onSelect(n.name)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onSelect(n.name);
                }
              }}
            >
              <title>{`${n.name} — ${t.status}`}</title>
              <rect width={NODE_W} height={NODE_H} rx="6" />
              <text x="10" y="18" class="dag-name">
                {label}
              </text>
              <text x="10" y="35" class="dag-status">
                {t.status.replace('_', ' ')}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
