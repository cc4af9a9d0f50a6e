// A task's log: live follow over EventSource (resumes by byte offset), ANSI colours, line anchors (#L12),
// arrival timestamps, search, and virtualised rendering so a 16 MiB log scrolls smoothly. GitHub's markers
// (log-groups.ts) fold: a `##[group]` line is a button over its lines; `##[error]` and the like read "Error: …".
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { parseAnsi, type AnsiColor, type AnsiStyle } from '../ansi.ts';
import { LogBuffer } from '../log-buffer.ts';
import { enc } from '../api.ts';
import { formatBytes } from '../format.ts';
import { foldLines, MARKER_LABELS, markerOf } from '../log-groups.ts';
import { stepOpen, stepRows, type Row, type StepRange } from '../log-steps.ts';
import { formatSpan } from '../format.ts';

const STEP_SYMBOLS: Record<string, string> = {
  succeeded: '✓',
  failed: '✗',
  timed_out: '✗',
  cancelled: '⊘',
  skipped: '–',
  running: '●',
};

/** Pixel height of one line: fixed, so the visible window is computed, not measured. */
const LINE_HEIGHT = 20;
/** Lines rendered above and below the visible window. */
const OVERSCAN = 30;

function spanProps(s: AnsiStyle): { class: string; style?: Record<string, string> } {
  let fg: AnsiColor | undefined = s.fg;
  let bg: AnsiColor | undefined = s.bg;
  if (s.inverse) [fg, bg] = [bg ?? 'var(--log-bg)', fg ?? 'var(--log-fg)'];
  const cls: string[] = [];
  const style: Record<string, string> = {};
  if (typeof fg === 'number') cls.push(`a-fg${fg}`);
  else if (fg) style.color = fg;
  if (typeof bg === 'number') cls.push(`a-bg${bg}`);
  else if (bg) style.backgroundColor = bg;
  if (s.bold) cls.push('a-b');
  if (s.dim) cls.push('a-d');
  if (s.italic) cls.push('a-i');
  if (s.underline) cls.push('a-u');
  return Object.keys(style).length > 0 ? { class: cls.join(' '), style } : { class: cls.join(' ') };
}

function lineFromHash(): number | undefined {
  const m = /^#L(\d+)$/.exec(location.hash);
  return m ? Number(m[1]) : undefined;
}

export interface LogViewProps {
  runId: string;
  task: string;
  /** Changes when a new attempt starts, to follow it from the beginning. */
  attempt: number;
  truncated: boolean;
  /** The steps of the attempt (so far, while it runs): the log is shown split into them. */
  steps?: StepRange[];
}

export function LogView({ runId, task, attempt, truncated, steps }: LogViewProps) {
  const buf = useMemo(() => new LogBuffer(), [runId, task, attempt]);
  const [, setVersion] = useState(0);
  const [state, setState] = useState<'connecting' | 'live' | 'ended' | 'error'>('connecting');
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(480);
  const [follow, setFollow] = useState(true);
  const [showTimes, setShowTimes] = useState(false);
  const [query, setQuery] = useState('');
  const [matches, setMatches] = useState<number[]>([]);
  const [current, setCurrent] = useState(-1);
  const [selected, setSelected] = useState<number | undefined>(lineFromHash());
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  /** Steps the reader opened or closed (by index); the others follow stepOpen. */
  const [chosen, setChosen] = useState<ReadonlyMap<number, boolean>>(new Map());
  const box = useRef<HTMLDivElement>(null);
  const base = `/api/v1/runs/${enc(runId)}/tasks/${enc(task)}/logs`;

  // Live follow; EventSource resumes with Last-Event-ID (the byte offset) after a dropped connection.
  useEffect(() => {
    const es = new EventSource(`${base}?follow=1`);
    let pending = false;
    const redraw = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        setVersion((v) => v + 1);
      });
    };
    es.addEventListener('open', () => setState('live'));
    es.addEventListener('log', (e) => {
      buf.append(JSON.parse((e as MessageEvent<string>).data) as string);
      redraw();
    });
    es.addEventListener('end', () => {
      es.close();
      setState('ended');
      redraw();
    });
    es.addEventListener('error', (e) => {
      // A server `error` event (its data says why: the session's token was revoked or expired) ends the follow
      // for good; a bare error is a dropped connection that EventSource retries by itself.
      if (e instanceof MessageEvent) es.close();
      if (es.readyState === EventSource.CLOSED) setState('error');
    });
    return () => es.close();
  }, [buf, base]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const count = buf.count;
  // Folded only while nothing is searched: every match stays in sight.
  const fold = buf.hasGroups && query === '' ? foldLines(buf.lines, count, expanded) : undefined;
  const groupShown = fold ? new Set(fold.visible) : undefined;
  // Split into the steps its runner reported (so far, while it runs), unless something is searched.
  const sectioned =
    steps !== undefined && steps.length > 0 && query === ''
      ? stepRows(steps, buf.lineStarts, count, chosen, (i) => groupShown === undefined || groupShown.has(i))
      : undefined;
  const rowList: readonly Row[] | undefined = sectioned ? sectioned.rows : fold?.visible;
  const shown = rowList ? rowList.length : count;
  const toggleStep = (k: number) => {
    const step = steps?.[k];
    if (step === undefined) return;
    setChosen(new Map(chosen).set(k, !stepOpen(step, k, chosen, steps!)));
  };
  const toggle = (header: number) => {
    const next = new Set(expanded);
    if (fold?.folded.get(header) === true) next.add(header);
    else next.delete(header);
    setExpanded(next);
  };
  const scrollToLine = (i: number) => {
    const el = box.current;
    if (!el) return;
    let pos = rowList ? rowList.indexOf(i) : i;
    const inStep = sectioned?.stepOf.get(i);
    if (
      pos < 0 &&
      inStep !== undefined &&
      steps?.[inStep] !== undefined &&
      !stepOpen(steps[inStep], inStep, chosen, steps)
    ) {
      // A line in a closed step: open it (its header's place is close enough until the next render).
      setChosen(new Map(chosen).set(inStep, true));
      pos = rowList!.findIndex((r) => typeof r === 'object' && r.step === inStep);
    } else if (pos < 0 && fold) {
      // A line in a folded group: unfold it (the header's place is close enough until the next render).
      const header = fold.groupOf.get(i);
      if (header !== undefined) setExpanded(new Set(expanded).add(header));
      pos = header === undefined ? 0 : fold.visible.indexOf(header);
    }
    el.scrollTop = Math.max(0, pos * LINE_HEIGHT - el.clientHeight / 3);
    setScrollTop(el.scrollTop);
  };

  // Follow the end while the reader is at the end (scrolling up turns following off).
  useEffect(() => {
    const el = box.current;
    if (!el || !follow) return;
    el.scrollTop = el.scrollHeight;
    setScrollTop(el.scrollTop);
  });
  // A linked line (#L12 in the address) is scrolled to once it has arrived; later selections are clicks.
  const linkedArrived = selected !== undefined && selected <= count;
  useEffect(() => {
    if (!linkedArrived) return;
    setFollow(false);
    scrollToLine(selected - 1);
  }, [linkedArrived]);

  useEffect(() => {
    const t = setTimeout(() => {
      const found = buf.search(query);
      setMatches(found);
      setCurrent(found.length > 0 ? 0 : -1);
      if (found.length > 0) {
        setFollow(false);
        scrollToLine(found[0]!);
      }
    }, 150);
    return () => clearTimeout(t);
  }, [query, buf, state]);

  const step = (d: number) => {
    if (matches.length === 0) return;
    const next = (current + d + matches.length) % matches.length;
    setCurrent(next);
    setFollow(false);
    scrollToLine(matches[next]!);
  };

  const first = Math.max(0, Math.floor(scrollTop / LINE_HEIGHT) - OVERSCAN);
  const last = Math.min(shown, Math.ceil((scrollTop + height) / LINE_HEIGHT) + OVERSCAN);
  const matchSet = new Set(matches);
  const currentLine = current >= 0 ? matches[current] : undefined;
  const t0 = buf.arrivedAt[0] ?? 0;
  const rows = [];
  for (let p = first; p < last; p++) {
    const row = rowList ? rowList[p]! : p;
    if (typeof row === 'object') {
      const step = steps![row.step]!;
      const open = stepOpen(step, row.step, chosen, steps!);
      const ran = step.status !== 'skipped';
      rows.push(
        <div class={`log-line log-step step-${step.status}`} key={`step-${row.step}`}>
          <span class="ln" />
          <span class="txt">
            <button
              type="button"
              class="step-toggle"
              aria-expanded={open}
              disabled={!ran || step.logStart === undefined}
              onClick={() => toggleStep(row.step)}
            >
              <span aria-hidden="true">{ran && step.logStart !== undefined ? (open ? '▾' : '▸') : ' '}</span>{' '}
              <span class="step-symbol">{STEP_SYMBOLS[step.status] ?? '·'}</span> {step.name}
            </button>
            <span class="step-time">
              {step.status === 'running' && step.startedAt !== undefined
                ? formatSpan(Math.max(0, Date.now() - Date.parse(step.startedAt)))
                : ran && step.durationMs !== undefined
                  ? formatSpan(step.durationMs)
                  : step.status}
            </span>
          </span>
        </div>,
      );
      continue;
    }
    const i = row;
    const marker = markerOf(buf.lines[i]!);
    const { spans } = parseAnsi(marker ? marker.text : buf.lines[i]!, buf.startStyle(i));
    const cls = ['log-line'];
    if (marker) cls.push(`log-${marker.kind}`);
    if (fold?.groupOf.has(i) === true) cls.push('in-group');
    if (matchSet.has(i)) cls.push('match');
    if (i === currentLine) cls.push('current-match');
    if (selected === i + 1) cls.push('selected');
    rows.push(
      <div class={cls.join(' ')} key={i}>
        <a
          class="ln"
          href={`#L${i + 1}`}
          aria-label={`line ${i + 1}`}
          onClick={(e) => {
            e.preventDefault();
            history.replaceState(null, '', `#L${i + 1}`);
            setSelected(i + 1);
            setFollow(false);
          }}
        >
          {i + 1}
        </a>
        {showTimes && <span class="ts">{new Date(buf.arrivedAt[i] ?? t0).toLocaleTimeString()}</span>}
        <span class="txt">
          {marker?.kind === 'group' && (
            <button
              type="button"
              class="group-toggle"
              aria-expanded={fold?.folded.get(i) !== true}
              onClick={() => toggle(i)}
            >
              {fold?.folded.get(i) === true ? '▸' : '▾'}
            </button>
          )}
          {marker !== undefined && marker.kind !== 'group' && marker.kind !== 'endgroup' && (
            <span class="marker-label">{MARKER_LABELS[marker.kind]}: </span>
          )}
          {spans.map((s, k) => (
            <span key={k} {...spanProps(s.style)}>
              {s.text}
            </span>
          ))}
        </span>
      </div>,
    );
  }

  return (
    <section class="log" aria-label={`Log of task ${task}`}>
      <div class="log-toolbar">
        <span class={`log-state log-state-${state}`} role="status">
          {state === 'connecting' && 'connecting…'}
          {state === 'live' && 'live'}
          {state === 'ended' && 'complete'}
          {state === 'error' && 'disconnected'}
          {` · ${count} lines · ${formatBytes(buf.bytes)}`}
        </span>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />{' '}
          Follow
        </label>
        <label>
          <input
            type="checkbox"
            checked={showTimes}
            onChange={(e) => setShowTimes(e.currentTarget.checked)}
          />{' '}
          Timestamps
        </label>
        <label class="log-search">
          <span class="sr-only">Search the log</span>
          <input
            type="search"
            placeholder="Search log"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') step(e.shiftKey ? -1 : 1);
            }}
          />
        </label>
        {query && (
          <span class="log-matches" aria-live="polite">
            {matches.length === 0 ? 'no match' : `${current + 1} of ${matches.length}`}
          </span>
        )}
        <button
          type="button"
          onClick={() => step(-1)}
          disabled={matches.length === 0}
          aria-label="Previous match"
        >
          ↑
        </button>
        <button type="button" onClick={() => step(1)} disabled={matches.length === 0} aria-label="Next match">
          ↓
        </button>
        <a class="button" href={base} download={`${task}.log`}>
          Download raw
        </a>
      </div>
      {truncated && (
        <p class="notice" role="note">
          Log truncated: it reached the size limit, so its middle was cut; the first and last parts are kept.
        </p>
      )}
      <div
        class="log-box"
        ref={box}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          setScrollTop(el.scrollTop);
          const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - LINE_HEIGHT;
          if (follow !== atEnd) setFollow(atEnd);
        }}
      >
        <div class="log-space" style={{ height: `${shown * LINE_HEIGHT}px` }}>
          <div class="log-rows" style={{ transform: `translateY(${first * LINE_HEIGHT}px)` }}>
            {rows}
          </div>
        </div>
        {count === 0 && (
          <p class="log-empty">{state === 'ended' ? 'This task wrote no output.' : 'Waiting for output…'}</p>
        )}
      </div>
    </section>
  );
}
