// The runner label grammar, shared by `baton runner register` (the register body's schema) and
// the workflow compiler (`runs_on` / `runs-on`), so a workflow cannot require a label that no
// runner could ever carry.

/** Letters, digits, `_ . : / -`, not starting with a punctuation mark. */
export const RUNNER_LABEL_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$';
/**
 * A pull runner's labels may also be `*`: it carries every label, so `runs-on: ubuntu-latest` and any other
 * hosted label run on it (the runner `baton run` embeds has it unless `--labels` restricts it). A workflow
 * cannot require `*`, and a push runner cannot carry it.
 */
export const ANY_LABEL = '*';
export const RUNNER_REGISTER_LABEL_PATTERN = '^([A-Za-z0-9_][A-Za-z0-9_.:/-]*|\\*)$';
export const RUNNER_LABEL_MAX_CHARS = 100;
/** Labels one runner may carry, hence the most one task can require. */
export const RUNNER_LABELS_MAX = 50;

const LABEL = new RegExp(RUNNER_LABEL_PATTERN);

/** Why `label` could never be a runner's label, or undefined when it could. */
export function labelProblem(label: string): string | undefined {
  if (label.length > RUNNER_LABEL_MAX_CHARS)
    return `is ${label.length} characters long; the limit is ${RUNNER_LABEL_MAX_CHARS} characters per label`;
  if (!LABEL.test(label))
    return 'is not a valid runner label: use letters, digits and _ . : / - (not first), as at baton runner register';
  return undefined;
}

/** True when a runner with `labels` carries `label`: it lists it, or it lists `*`. */
export function carriesLabel(labels: readonly string[], label: string): boolean {
  return labels.includes(label) || labels.includes(ANY_LABEL);
}
