// A task's annotations (::error::, ::warning::, ::notice:: of GitHub's workflow commands) and its steps'
// summaries (GITHUB_STEP_SUMMARY, rendered from markdown.ts's data: every text is escaped by Preact).
import type { ComponentChildren } from 'preact';
import type { TaskResult } from '../api.ts';
import { parseMarkdown, type Block, type Inline } from '../markdown.ts';

type Annotation = NonNullable<TaskResult['annotations']>[number];
const LEVEL_LABELS: Record<Annotation['level'], string> = {
  error: 'Error',
  warning: 'Warning',
  notice: 'Notice',
};

function where(a: Annotation): string {
  if (a.file === undefined) return '';
  const line =
    a.line === undefined
      ? ''
      : `#L${a.line}${a.endLine !== undefined && a.endLine !== a.line ? `-L${a.endLine}` : ''}`;
  return `${a.file}${line}${a.col === undefined ? '' : ` (column ${a.col})`}`;
}

export function Annotations({ annotations }: { annotations: Annotation[] }) {
  return (
    <ul class="annotations" aria-label="Annotations">
      {annotations.map((a, k) => (
        <li key={k} class={`annotation-${a.level}`}>
          <span class="annotation-level">{LEVEL_LABELS[a.level]}</span> <span class="muted">{a.step}</span>
          {a.file !== undefined && <code> {where(a)}</code>}
          {': '}
          {a.title !== undefined && <strong>{a.title}: </strong>}
          <span class="annotation-message">{a.message}</span>
        </li>
      ))}
    </ul>
  );
}

function inline(nodes: Inline[]): ComponentChildren {
  return nodes.map((n, k) => {
    switch (n.kind) {
      case 'text':
        return n.text;
      case 'code':
        return <code key={k}>{n.text}</code>;
      case 'strong':
        return <strong key={k}>{inline(n.children)}</strong>;
      case 'em':
        return <em key={k}>{inline(n.children)}</em>;
      case 'del':
        return <del key={k}>{inline(n.children)}</del>;
      case 'link':
        return (
          <a key={k} href={n.href} rel="noopener noreferrer nofollow" target="_blank">
            {inline(n.children)}
          </a>
        );
    }
  });
}

function block(b: Block, k: number): ComponentChildren {
  switch (b.kind) {
    case 'heading': {
      const H = `h${Math.min(6, b.level + 2)}` as 'h3';
      return <H key={k}>{inline(b.children)}</H>;
    }
    case 'paragraph':
      return <p key={k}>{inline(b.children)}</p>;
    case 'code':
      return (
        <pre key={k}>
          <code>{b.text}</code>
        </pre>
      );
    case 'quote':
      return <blockquote key={k}>{b.children.map(block)}</blockquote>;
    case 'list': {
      const items = b.items.map((item, j) => <li key={j}>{inline(item)}</li>);
      return b.ordered ? <ol key={k}>{items}</ol> : <ul key={k}>{items}</ul>;
    }
    case 'table':
      return (
        <table key={k}>
          <thead>
            <tr>
              {b.head.map((c, j) => (
                <th key={j}>{inline(c)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {b.rows.map((row, j) => (
              <tr key={j}>
                {row.map((c, m) => (
                  <td key={m}>{inline(c)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      );
    case 'rule':
      return <hr key={k} />;
  }
}

export function StepSummaries({ summaries }: { summaries: NonNullable<TaskResult['summaries']> }) {
  return (
    <>
      {summaries.map((s, k) => (
        <section key={k} class="step-summary" aria-label={`Summary of step ${s.step}`}>
          <p class="muted">{s.step}</p>
          {parseMarkdown(s.markdown).map(block)}
        </section>
      ))}
    </>
  );
}
