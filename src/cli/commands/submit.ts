// `baton submit WORKFLOW`: send a workflow to a server; `--follow` shows live progress and waits for the end.
import type { Command } from 'commander';
import { collectInput, connect, readWorkflowFile, reportError, type ConnectionFlags } from '../common.ts';
import { exitCodeFor, followRun, printSummary } from '../follow.ts';
import { addGitHubOptions, githubSubmit, type GitHubFlags } from '../github-context.ts';
import { createOut, printJson } from '../output.ts';

interface SubmitFlags extends ConnectionFlags, GitHubFlags {
  input: Record<string, string>;
  follow?: boolean;
  json?: boolean;
  job: string[];
}

export function registerSubmit(program: Command, setExit: (code: number) => void): void {
  const command = program
    .command('submit')
    .description('submit a workflow to a server and print the run id (with --follow, wait and show progress)')
    .argument('<workflow>', 'workflow file (YAML or JSON)')
    .option('--server <url>', 'server URL (BATON_SERVER)')
    .option('--token <token>', 'user token (BATON_TOKEN)')
    .option('-i, --input <name=value>', 'a workflow input (repeatable)', collectInput, {})
    .option('-f, --follow', 'follow the run until it ends; exit 0 only if it succeeded')
    .option('--json', 'print the run as JSON')
    .option(
      '--job <id>',
      'run only this job and the jobs it needs (a matrix job by its id: every combination); repeatable',
      (id: string, all: string[]) => [...all, id],
      [] as string[],
    );
  addGitHubOptions(command);
  command.action(async (file: string, flags: SubmitFlags) => {
    const out = createOut();
    try {
      const client = connect(flags);
      const wf = readWorkflowFile(file);
      const github = await githubSubmit({ text: wf.text, path: file }, flags, flags.input);
      const run = await client.submitRun(wf.text, {
        ...github,
        fileName: wf.fileName,
        ...(flags.job.length === 0 ? {} : { jobs: flags.job }),
        // Loaded on use: a runner's process stays free of YAML code.
        actions: (await import('../action-files.ts')).readActionFiles(file, wf.text),
      });
      if (!flags.follow) {
        if (flags.json) printJson(out, run);
        else out.write(`${run.id}\n`);
        return setExit(0);
      }
      if (flags.json) {
        for await (const m of client.runStream(run.id)) void m;
        const result = await client.getRun(run.id);
        printJson(out, result);
        return setExit(exitCodeFor(result));
      }
      out.write(`run ${run.id} (${run.name}): ${Object.keys(run.results).length} task(s)\n`);
      // Ctrl-C stops following, not the run: say so, and how to cancel it.
      const stopFollowing = new AbortController();
      const onSigint = () => {
        out.err(
          `\nbaton: stopped following; run ${run.id} keeps going on the server (cancel it with: baton runs cancel ${run.id})\n`,
        );
        stopFollowing.abort();
      };
      process.once('SIGINT', onSigint);
      try {
        const result = await followRun(client, run.id, out, { signal: stopFollowing.signal });
        if (stopFollowing.signal.aborted) return setExit(130);
        printSummary(result, out);
        setExit(exitCodeFor(result));
      } catch (err) {
        if (!stopFollowing.signal.aborted) throw err;
        setExit(130);
      } finally {
        process.off('SIGINT', onSigint);
      }
    } catch (err) {
      setExit(reportError(err, out, { file, json: flags.json }));
    }
  });
}
