// Loads XForms in ODK's form engine (@getodk/xforms-engine, the engine of
// ODK Web Forms) on Node with jsdom, sets answers, and prints the form's
// nodes as the engine computes them. Used by questionnaire's
// TestXFormInODKEngine; run `npm ci` here first.
//
// Input (standard input, JSON): [{"name": "...", "xform": "/path/form.xml",
//   "answers": [["/data/region", "north"], ...]}]
// Output (standard output, JSON): [{"name": "...", "status": "success" |
//   "warning" | "failure", "error": "...", "nodes": [{"ref": "/data/x",
//   "type": "input", "relevant": true, "required": false, "value": "...",
//   "options": ["a", "b"], "constraint_violated": true}]}]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

// The engine's XPath parser (tree-sitter compiled to WebAssembly) looks
// for its files next to the engine as a CommonJS module would.
const here = dirname(fileURLToPath(import.meta.url));
globalThis.__dirname = join(here, 'node_modules/@getodk/xforms-engine/dist');
globalThis.__filename = join(globalThis.__dirname, 'index.js');
globalThis.require = createRequire(globalThis.__filename);

const { JSDOM } = await import('jsdom');
const dom = new JSDOM('');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const k of ['DOMParser', 'XMLSerializer', 'Node', 'Element', 'Document', 'XPathResult', 'XPathEvaluator', 'Attr', 'Text', 'NodeFilter', 'DocumentFragment', 'XMLDocument']) {
  globalThis[k] = dom.window[k];
}
const { loadForm } = await import('@getodk/xforms-engine');

// Attachments (CSV lists, external instances) are answered with a
// two-item list so that forms that use them load.
const attachment = async () => new Response('name,label\na,A\nb,B\n', { headers: { 'content-type': 'text/csv' } });

const walk = (node, out) => {
  const s = node.currentState;
  const entry = { ref: s.reference, type: node.nodeType, relevant: !!s.relevant, required: !!s.required };
  if (s.value !== null && s.value !== undefined && typeof s.value !== 'object') entry.value = String(s.value);
  if (Array.isArray(s.value)) entry.value = s.value.map(String).join(' ');
  if (Array.isArray(s.valueOptions)) entry.options = s.valueOptions.map((o) => String(o.value));
  const v = node.validationState;
  if (v && v.constraint && v.constraint.valid === false) entry.constraint_violated = true;
  out.push(entry);
  for (const c of s.children ?? []) walk(c, out);
  return out;
};

const find = (node, ref) => {
  if (node.currentState.reference === ref) return node;
  for (const c of node.currentState.children ?? []) {
    const f = find(c, ref);
    if (f) return f;
  }
  return null;
};

const jobs = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const job of jobs) {
  const r = { name: job.name, status: '', error: '', nodes: [] };
  try {
    const res = await loadForm(readFileSync(job.xform, 'utf8'), { fetchFormAttachment: attachment });
    r.status = res.status;
    if (res.status === 'failure') {
      r.error = String(res.error?.message ?? res.error);
      results.push(r);
      continue;
    }
    const { root } = res.createInstance();
    for (const [ref, value] of job.answers ?? []) {
      const node = find(root, ref);
      if (!node) throw new Error(`no node ${ref}`);
      switch (node.nodeType) {
        case 'select':
          node.selectValues(String(value).split(' ').filter((v) => v !== ''));
          break;
        case 'trigger':
          node.setValue(value === true || value === 'true' || value === 'OK');
          break;
        default:
          node.setValue(String(value));
      }
    }
    r.nodes = walk(root, []);
  } catch (e) {
    r.status = 'error';
    r.error = String(e?.message ?? e);
  }
  results.push(r);
}
process.stdout.write(JSON.stringify(results));
