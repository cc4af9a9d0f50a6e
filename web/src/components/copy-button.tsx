// Copies a shown value (a command, a secret) to the clipboard; without a clipboard (plain HTTP on another host)
// it selects the element's text for the user to copy.
import { useState } from 'preact/hooks';

export function CopyButton({ text, target, label }: { text: string; target: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="primary"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
        } catch {
          const el = document.getElementById(target);
          if (!el) return;
          const range = document.createRange();
          range.selectNodeContents(el);
          getSelection()?.removeAllRanges();
          getSelection()?.addRange(range);
        }
      }}
    >
      {copied ? 'Copied' : (label ?? 'Copy')}
    </button>
  );
}
