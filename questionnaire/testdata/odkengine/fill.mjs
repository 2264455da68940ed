// fill.mjs fills an XForm with ODK's own form engine (@getodk/xforms-engine,
// the engine of ODK Web Forms and ODK Central) the way an enumerator would,
// and prints what the engine computed and the instance it submits. Used by
// collector's OpenRosa tests (odk_engine_test.go); run `npm ci` here first.
//
//	node fill.mjs FORM.xml ANSWERS.json [--deviceid ID] [--edit INSTANCE.xml] [--maxsize N]
//
// With --edit, the engine opens the submitted instance for editing (as
// Collect and Central edit a sent form: a new instanceID, the old one as
// meta/deprecatedID) and the answers are entered over it.
//
// ANSWERS.json holds answers as dotm's JSON API takes them: keyed by
// question name (groups are transparent), a repeat as an array of objects,
// a select_multiple as an array or a space-separated string, a geopoint as
// {lat, lon, alt, accuracy} or "lat lon alt accuracy".
//
// The answers are entered in document order, so every question is reached
// with the relevance the earlier answers give it: an uncontrolled repeat
// gets as many entries as the answers have, a counted repeat (jr:count) the
// entries its count gives. Questions the engine does not show, and read-only
// ones (calculations, preloads), are not entered.
//
// Output (stdout), one JSON object:
//
//	status       the engine's submission status: "ready" or "pending"
//	violations   [{reference, condition, message}] when pending
//	file         the multipart field name of the instance (xml_submission_file)
//	instance     the instance XML, as the engine serializes it for submission
//	nodes        {path: {reference, type, relevant, required, value, valid,
//	             constraintValid, requiredValid, calculated?, options?}}
//	             for every group, repeat, repeat entry and leaf; path is dotm's
//	             (members[0].age: repeat names with a 0-based index, groups
//	             transparent, a group by its name)
//	unused       answers the engine never reached (not shown, or no such question)
//	requests     the multipart requests that send the instance: each a list of
//	             parts {name, filename, type, base64}, the instance and the
//	             files of upload questions; one request, or with --maxsize N
//	             the engine's chunked payload (files split so that each
//	             request's files and instance fit in N bytes)
//
// An upload question's answer is {name, type, path}: the file at path, as
// the camera or recorder gave it, with that file name and content type.
//
// A form the engine refuses to load ends the script with exit status 2 and
// the engine's error on stderr.
//
//	node fill.mjs --load FORM.xml...
//
// only loads each form and starts an instance of it, attachments (CSV,
// XML) left blank, and prints {FORM.xml: {nodes} or {error}}, nodes as
// above for the new, unanswered instance.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

// The engine's bundled tree-sitter XPath parser is Emscripten output that,
// on Node, reads __dirname; ES modules have none.
globalThis.__dirname = new URL('.', import.meta.url).pathname;
// The engine parses XForms with the browser's DOM; jsdom provides it.
const { window } = new JSDOM('');
for (const name of ['document', 'DOMParser', 'XMLSerializer', 'Node', 'Element', 'Document', 'XMLDocument', 'Attr', 'Text', 'NodeFilter']) {
	if (!(name in globalThis)) {
		globalThis[name] = window[name];
	}
}
// Node 18 (Debian 12's) has File only in node:buffer.
if (!('File' in globalThis)) {
	globalThis.File = (await import('node:buffer')).File;
}
const { createInstance, editInstance } = await import('@getodk/xforms-engine');

const args = process.argv.slice(2);
let deviceID;
let edit;
let maxSize;
const files = [];
for (let i = 0; i < args.length; i++) {
	if (args[i] === '--deviceid') {
		deviceID = args[++i];
	} else if (args[i] === '--maxsize') {
		maxSize = Number(args[++i]);
	} else if (args[i] === '--edit') {
		edit = readFileSync(args[++i], 'utf8');
	} else {
		files.push(args[i]);
	}
}

// nodeName is the element name of a node (the last step of its reference).
const nodeName = (node) => node.definition.nodeName ?? node.currentState.reference.replace(/\[\d+\]$/, '').split('/').pop();

// The parity vector: every node with what the engine computed for it.
const parityNodes = (root) => {
	const nodes = {};
	const walk = (parent, prefix) => {
		for (const node of parent.currentState.children ?? []) {
			const s = node.currentState;
			const name = nodeName(node);
			const entry = { reference: s.reference, type: node.nodeType, relevant: s.relevant, required: s.required };
			switch (node.nodeType) {
				case 'group':
					nodes[prefix + name] = entry;
					walk(node, prefix);
					break;
				case 'repeat-range:uncontrolled':
				case 'repeat-range:controlled':
					entry.count = s.children.length;
					nodes[prefix + name] = entry;
					s.children.forEach((inst, i) => {
						const p = `${prefix}${name}[${i}]`;
						nodes[p] = { reference: inst.currentState.reference, type: inst.nodeType, relevant: inst.currentState.relevant };
						walk(inst, p + '.');
					});
					break;
				default: {
					if ('instanceValue' in s) {
						entry.value = s.instanceValue;
					}
					if (node.definition.bind?.calculate != null) {
						entry.calculated = true;
					}
					const v = node.validationState;
					if (v && 'constraint' in v) {
						entry.valid = v.constraint.valid && v.required.valid;
						entry.constraintValid = v.constraint.valid;
						entry.requiredValid = v.required.valid;
					}
					if (node.nodeType === 'select') {
						entry.options = s.valueOptions.map((o) => o.value);
					}
					nodes[prefix + name] = entry;
				}
			}
		}
	};
	walk(root, '');
	return nodes;
};

if (args[0] === '--load') {
	const result = {};
	for (const file of args.slice(1)) {
		try {
			const inst = await createInstance(readFileSync(file, 'utf8'), {
				form: {
					fetchFormAttachment: async () => new Response(null, { status: 404 }),
					missingResourceBehavior: 'BLANK',
				},
			});
			result[file] = { nodes: parityNodes(inst.root) };
		} catch (err) {
			const causes = (err?.causes ?? []).map((c) => String(c?.message ?? c));
			result[file] = { error: [String(err?.message ?? err), ...causes].join(': ') };
		}
	}
	// exit once the output is written: a pipe takes 64 KiB at a time, and
	// exiting at once would cut a longer output short
	await new Promise((resolve) => process.stdout.write(JSON.stringify(result) + '\n', resolve));
	process.exit(0);
}

if (files.length !== 2) {
	process.stderr.write('usage: node fill.mjs FORM.xml ANSWERS.json [--deviceid ID] [--edit INSTANCE.xml]\n');
	process.exit(64);
}
const xform = readFileSync(files[0], 'utf8');
const answers = JSON.parse(readFileSync(files[1], 'utf8'));

let form;
try {
	const instance = { preloadProperties: deviceID == null ? {} : { deviceID } };
	if (edit == null) {
		form = await createInstance(xform, { instance });
	} else {
		form = await editInstance(
			xform,
			{ inputType: 'FORM_INSTANCE_INPUT_RESOLVABLE', resolveInstance: () => edit, attachments: new Map() },
			{ instance }
		);
	}
} catch (err) {
	process.stderr.write(`the engine refused the form: ${err?.stack ?? err}\n`);
	for (const cause of err?.causes ?? (err?.cause ? [err.cause] : [])) {
		process.stderr.write(`cause: ${cause?.stack ?? cause}\n`);
	}
	process.exit(2);
}


const used = new Set();
const take = (scope, name, key) => {
	if (scope != null && Object.hasOwn(scope, name)) {
		used.add(key);
		return scope[name];
	}
	return undefined;
};

const inputText = (node, v) => {
	if (node.valueType === 'geopoint' && v != null && typeof v === 'object') {
		return [v.lat, v.lon, v.alt ?? 0, v.accuracy ?? 0].join(' ');
	}
	return String(v);
};

// enter sets the answers of scope (one level: the top or a repeat entry)
// on the children of parent, in document order.
const enter = (parent, scope, prefix) => {
	for (const node of parent.currentState.children ?? []) {
		const name = nodeName(node);
		const key = prefix + name;
		switch (node.nodeType) {
			case 'group':
				enter(node, scope, prefix);
				break;
			case 'repeat-range:uncontrolled':
			case 'repeat-range:controlled': {
				const list = take(scope, name, key);
				if (!node.currentState.relevant || !Array.isArray(list)) {
					break;
				}
				if (node.nodeType === 'repeat-range:uncontrolled') {
					const have = node.currentState.children.length;
					if (have < list.length) {
						node.addInstances(have - 1, list.length - have);
					} else if (have > list.length) {
						node.removeInstances(list.length, have - list.length);
					}
				}
				node.currentState.children.forEach((entry, i) => {
					if (i < list.length) {
						enter(entry, list[i], `${key}[${i}].`);
					}
				});
				break;
			}
			case 'upload': {
				// {name, type, path}: the file a camera or recorder made
				const v = take(scope, name, key);
				if (v == null || !node.currentState.relevant) {
					if (v !== undefined) {
						used.delete(key);
					}
					break;
				}
				node.setValue(new File([readFileSync(v.path)], v.name, { type: v.type }));
				break;
			}
			case 'input':
			case 'range':
			case 'select':
			case 'trigger': {
				const v = take(scope, name, key);
				if (v === undefined || !node.currentState.relevant || node.currentState.readonly) {
					if (v !== undefined) {
						used.delete(key);
					}
					break;
				}
				if (node.nodeType === 'select') {
					const many = node.definition.bodyElement?.type === 'select';
					const values = Array.isArray(v) ? v.map(String) : String(v).split(' ').filter((s) => s !== '');
					if (many) {
						node.selectValues(values);
					} else {
						node.selectValue(values[0] ?? null);
					}
				} else if (node.nodeType === 'trigger') {
					node.setValue(v === true || v === 'OK');
				} else {
					node.setValue(inputText(node, v));
				}
				break;
			}
			default:
				// notes, calculations and preloads: read-only
				break;
		}
	}
};
enter(form.root, answers, '');

// unusedKeys lists the answers (at every level) that enter did not set.
const unused = [];
const listUnused = (scope, prefix) => {
	for (const [name, v] of Object.entries(scope ?? {})) {
		const key = prefix + name;
		if (Array.isArray(v) && v.some((x) => x != null && typeof x === 'object' && !Array.isArray(x))) {
			if (!used.has(key)) {
				unused.push(key);
			}
			v.forEach((entry, i) => listUnused(entry, `${key}[${i}].`));
		} else if (!used.has(key)) {
			unused.push(key);
		}
	}
};
listUnused(answers, '');


const payload = await form.root.prepareInstancePayload(
	maxSize == null ? { payloadType: 'monolithic' } : { payloadType: 'chunked', maxSize }
);
const data = payload.data[0];
let fileName = null;
let instance = null;
for (const [name, file] of data.entries()) {
	if (file.type === 'text/xml' || name === 'xml_submission_file') {
		fileName = name;
		instance = await file.text();
	}
}
// The requests the payload makes: each its form data's parts, in order.
const requests = [];
for (const d of payload.data) {
	const parts = [];
	for (const [name, file] of d.entries()) {
		parts.push({ name, filename: file.name, type: file.type, base64: Buffer.from(await file.arrayBuffer()).toString('base64') });
	}
	requests.push(parts);
}
const violations = (payload.violations ?? []).map((v) => ({
	reference: v.reference,
	condition: v.violation?.condition ?? null,
	message: v.violation?.message?.asString ?? null,
}));
process.stdout.write(
	JSON.stringify({ status: payload.status, violations, file: fileName, instance, requests, nodes: parityNodes(form.root), unused }) + '\n'
);
