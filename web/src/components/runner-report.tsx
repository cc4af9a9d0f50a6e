// What a runner says about itself (its last status report), as the runners list and a runner's page show it.
import type { RunnerView } from '../api.ts';

type Report = RunnerView['report'];

export function Isolation({ report, ephemeral }: { report: Report; ephemeral?: boolean }) {
  const extras = [
    report?.networkIsolation === true ? 'can cut the network' : undefined,
    report?.limits === true ? 'enforces limits' : undefined,
    ephemeral === true ? 'ephemeral: one task' : undefined,
  ].filter((x): x is string => x !== undefined);
  const more = extras.length > 0 && <span class="muted"> ({extras.join(', ')})</span>;
  if (report === undefined) return <>—{more}</>;
  if (report.isolation === 'host')
    return (
      <>
        <span class="warning" title="Tasks run as the runner's own user on its machine">
          host — not for untrusted code
        </span>
        {more}
      </>
    );
  return (
    <>
      {report.isolation}
      {more}
    </>
  );
}

/** Free space in the work dir, and why the runner takes no tasks when it refuses them. */
export function FreeDisk({ report }: { report: Report }) {
  if (report === undefined) return <>—</>;
  return (
    <>
      {Math.round(report.freeDiskBytes / 1048576)} MiB
      {report.refusing !== undefined && (
        <div class="warning" role="note">
          takes no tasks: {report.refusing}
        </div>
      )}
    </>
  );
}
