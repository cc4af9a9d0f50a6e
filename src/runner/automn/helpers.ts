// The Automn script API (AutomnReturn, AutomnLog, AutomnRunLog, AutomnNotify) for each language, delivered
// out of band: every call appends one `automn_<kind>_<id>` assignment to the step's BATON_OUTPUT file, which
// the engine reads after the step (never stdout, so printed user data cannot forge a return value or a log).

/** The languages a push request may name, and the engine shell each one runs under. */
export const AUTOMN_LANGUAGES: Record<string, string> = {
  shell: 'bash --noprofile --norc {0}',
  bash: 'bash --noprofile --norc {0}',
  sh: 'sh {0}',
  node: 'node',
  python: 'python',
  powershell: 'pwsh',
};

// POSIX sh (so `sh` and `bash` share it). JSON strings are escaped by awk; each call is a heredoc with a
// random-enough delimiter so a payload can hold any line.
const SHELL = String.raw`__automn_out=$BATON_OUTPUT; __automn_n=0
__automn_json() { printf '%s\n' "$1" | awk 'BEGIN{ORS="";printf "\""} {gsub(/\\/,"\\\\");gsub(/"/,"\\\"");gsub(/\t/,"\\t");gsub(/\r/,"\\r");gsub(/[\001-\037]/,"");if(NR>1)printf "\\n";printf "%s",$0} END{printf "\""}'; }
__automn_put() { __automn_n=$((__automn_n+1)); __automn_d="AUTOMN_EOF_$$_$__automn_n"; printf 'automn_%s_%s_%s<<%s\n%s\n%s\n' "$1" "$$" "$__automn_n" "$__automn_d" "$2" "$__automn_d" >> "$__automn_out"; }
AutomnReturn() { __automn_put return "{\"json\":$(__automn_json "$1")}"; }
AutomnLog() { __automn_put log "{\"message\":$(__automn_json "$1"),\"level\":$(__automn_json "\${2:-info}"),\"contextJson\":$(__automn_json "\${3:-}"),\"type\":$(__automn_json "\${4:-general}")}"; }
AutomnNotify() { __automn_put notify "{\"audience\":$(__automn_json "$1"),\"message\":$(__automn_json "$2"),\"level\":$(__automn_json "\${3:-info}")}"; }
AutomnRunLog() { for __automn_a in "$@"; do printf '%s\n' "$__automn_a"; done; }
`.replaceAll('\\${', '${');

const NODE = [
  `{const fs=require('node:fs');const out=process.env.BATON_OUTPUT;let n=0;let returned=false;`,
  `const put=(k,v)=>{n++;fs.appendFileSync(out,'automn_'+k+'_'+process.pid+'_'+n+'='+JSON.stringify(v)+'\\n');};`,
  `globalThis.AutomnReturn=(v)=>{if(returned)return;returned=true;put('return',{value:v===undefined?null:v});};`,
  `globalThis.AutomnLog=(message,level='info',context=null,type='general')=>put('log',{message,level,context,type});`,
  `globalThis.AutomnNotify=(audience,message,level='info')=>put('notify',{audience,message,level});`,
  `globalThis.AutomnRunLog=(...a)=>console.log(...a.map((x)=>typeof x==='string'?x:JSON.stringify(x,null,2)));}`,
].join('');

const PYTHON = [
  `def __automn_setup():`,
  `    import json as _j, os as _o, builtins as _b`,
  `    out = _o.environ.get("BATON_OUTPUT"); st = {"n": 0, "ret": False}`,
  `    def put(k, v):`,
  `        st["n"] += 1`,
  `        with open(out, "a", encoding="utf-8") as f: f.write("automn_%s_%d_%d=%s\\n" % (k, _o.getpid(), st["n"], _j.dumps(v, default=str)))`,
  `    def ret(v=None):`,
  `        if st["ret"]: return`,
  `        st["ret"] = True; put("return", {"value": v})`,
  `    def log(message, level="info", context=None, type="general"): put("log", {"message": message, "level": level, "context": context, "type": type})`,
  `    def notify(audience, message, level="info"): put("notify", {"audience": audience, "message": message, "level": level})`,
  `    def runlog(*a): print(*[x if isinstance(x, str) else _j.dumps(x, indent=2) for x in a], flush=True)`,
  `    return ret, log, notify, runlog`,
  `AutomnReturn, AutomnLog, AutomnNotify, AutomnRunLog = __automn_setup()`,
  `del __automn_setup`,
  ``,
].join('\n');

/** The step script for `code` in `language`: the helpers, then the code, unchanged. */
export function scriptFor(language: string, code: string): string {
  if (language === 'node') return `${NODE}\n${code}`;
  if (language === 'python') return `${PYTHON}${code}`;
  if (language === 'powershell') return code;
  return `${SHELL}${code}`;
}
