// `baton completion bash|zsh|fish`: a completion script written from the command tree itself, so it never
// drifts from the commands and flags that exist.
import type { Command } from 'commander';
import { CliError } from '../common.ts';
import { createOut } from '../output.ts';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

interface Node {
  /** Words after `baton` that lead here, e.g. ['runner', 'start']. */
  path: string[];
  subcommands: string[];
  flags: string[];
  described: Array<{ word: string; about: string }>;
}

export function registerCompletion(program: Command, setExit: (code: number) => void): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('<shell>', `one of ${SHELLS.join(', ')}`)
    .addHelpText(
      'after',
      `
Install:
  bash  echo 'source <(baton completion bash)' >> ~/.bashrc
  zsh   echo 'source <(baton completion zsh)' >> ~/.zshrc   (after compinit)
  fish  baton completion fish > ~/.config/fish/completions/baton.fish`,
    )
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell))
        throw new CliError(`completion: the shell must be one of ${SHELLS.join(', ')}; got '${shell}'`);
      createOut().write(completionScript(program, shell as Shell));
      setExit(0);
    });
}

export function completionScript(program: Command, shell: Shell): string {
  const nodes = walk(program, []);
  if (shell === 'bash') return bash(nodes);
  if (shell === 'zsh') return `#compdef baton\nautoload -U +X bashcompinit && bashcompinit\n${bash(nodes)}`;
  return fish(nodes);
}

function walk(command: Command, path: string[]): Node[] {
  const visible = command.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  const flags = command.options.flatMap((o) => [o.short, o.long].filter((f): f is string => f !== undefined));
  const node: Node = {
    path,
    subcommands: visible.map((c) => c.name()),
    flags: [...flags, '--help'],
    described: [
      ...visible.map((c) => ({ word: c.name(), about: c.description() })),
      ...command.options
        .filter((o) => o.long !== undefined)
        .map((o) => ({ word: o.long!, about: o.description })),
    ],
  };
  return [node, ...visible.flatMap((c) => walk(c, [...path, c.name()]))];
}

/** Single-quoted for sh: the words are ours, but a description may hold a quote. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function bash(nodes: Node[]): string {
  const cases = nodes
    .map((n) => `    ${quote(n.path.join(' '))}) words=${quote([...n.subcommands, ...n.flags].join(' '))} ;;`)
    .join('\n');
  return `# baton completion for bash (baton completion bash)
_baton() {
  local cur path="" word candidate words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  # The deepest command path the words typed so far name.
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$word" in -*) continue ;; esac
    candidate="\${path:+$path }$word"
    case "$candidate" in
${[...new Set(nodes.map((n) => n.path.join(' ')).filter((p) => p !== ''))]
  .map((p) => `      ${quote(p)}) path="$candidate" ;;`)
  .join('\n')}
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _baton baton
`;
}

function fish(nodes: Node[]): string {
  const lines = ['# baton completion for fish (baton completion fish)', 'complete -c baton -f'];
  for (const node of nodes) {
    // fish: the command path so far is exactly this node's path.
    const seen = node.path.map((w) => `__fish_seen_subcommand_from ${w}`);
    const deeper =
      node.subcommands.length > 0 ? [`not __fish_seen_subcommand_from ${node.subcommands.join(' ')}`] : [];
    const condition = node.path.length === 0 ? `__fish_use_subcommand` : [...seen, ...deeper].join('; and ');
    for (const { word, about } of node.described) {
      const what = word.startsWith('--') ? `-l ${word.slice(2)}` : `-a ${quote(word)}`;
      lines.push(`complete -c baton -n ${quote(condition)} ${what} -d ${quote(about.split('\n')[0] ?? '')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
