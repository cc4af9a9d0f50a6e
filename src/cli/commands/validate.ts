// `baton validate WORKFLOW`: every problem with its line and column, without a server.
import type { Command } from 'commander';
import { formatIssues, formatWarnings, readWorkflowFile, reportError, EXIT } from '../common.ts';
import { createOut, printJson } from '../output.ts';

export function registerValidate(program: Command, setExit: (code: number) => void): void {
  program
    .command('validate')
    .description(
      'check a workflow and print every problem with its line and column (exit 2 if any); warnings do not fail it',
    )
    .argument('<workflow>', 'workflow file (YAML or JSON)')
    .option('--json', 'print the issues (or the compiled plan) as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const out = createOut();
      try {
        const { compileWorkflow } = await import('../../workflow/index.ts');
        const wf = readWorkflowFile(file);
        const res = compileWorkflow(wf.text, {
          fileName: wf.fileName,
          // Loaded on use: a runner's process stays free of YAML code.
          actions: (await import('../action-files.ts')).readActionFiles(file, wf.text),
        });
        const warnings = res.warnings ?? [];
        if (flags.json)
          printJson(out, {
            ...(res.ok ? { ok: true, plan: res.plan } : { ok: false, issues: res.issues }),
            ...(warnings.length === 0 ? {} : { warnings }),
          });
        else {
          if (warnings.length > 0) out.err(formatWarnings(file, warnings));
          if (res.ok)
            out.write(
              `${file}: ok — ${res.plan.tasks.length} task(s): ${res.plan.tasks.map((t) => t.name).join(', ')}\n`,
            );
          else out.err(formatIssues(file, res.issues) + `${res.issues.length} problem(s)\n`);
        }
        setExit(res.ok ? EXIT.ok : EXIT.usage);
      } catch (err) {
        setExit(reportError(err, out, { file }));
      }
    });
}
