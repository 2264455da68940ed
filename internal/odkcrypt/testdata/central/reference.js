// Reference for dotm's internal/odkcrypt tests, run under Node. It uses ODK
// Central's own submission decryption (crypto.js, oaep.js and pkcs7.js in
// this directory, Apache-2.0) and Node's OpenSSL; nothing of dotm's code.
//
//   node reference.js decrypt < request.json   decrypt one submission
//   node reference.js golden DIR               write a Collect-style encrypted
//                                              submission and its key to DIR
//
// decrypt reads {privateKeyPem, manifest (the XML text), files: {NAME.enc:
// base64}} and prints {instance, media: [{name, data}], signatureValid}
// (data base64). The element signature is checked as ODK Collect makes it
// (EncryptionUtils.getBase64EncryptedElementSignature) with Node's
// RSA-OAEP-SHA-256.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { getSubmissionKey, getSubmissionIvs, getSubmissionCleartext } = require('./crypto');

const text = (xml, tag) => {
  const m = new RegExp(`<(?:\\w+:)?${tag}(?:\\s[^>]*)?>([^<]*)</(?:\\w+:)?${tag}>`).exec(xml);
  return m == null ? null : m[1].trim();
};
const attr = (xml, name) => {
  const root = /<(?:\w+:)?data\s([^>]*)>/.exec(xml)[1];
  const m = new RegExp(`(?:^|\\s)${name}="([^"]*)"`).exec(root);
  return m == null ? null : m[1];
};
const md5hex = (b) => crypto.createHash('md5').update(b).digest('hex');

function decrypt(req) {
  const xml = req.manifest;
  const priv = crypto.createPrivateKey(req.privateKeyPem);
  const encKey = text(xml, 'base64EncryptedKey');
  const instanceId = text(xml, 'instanceID');
  const media = [...xml.matchAll(/<file>([^<]*)<\/file>/g)].map((m) => m[1].trim());
  const xmlFile = text(xml, 'encryptedXmlFile');
  const key = getSubmissionKey(priv, Buffer.from(encKey, 'base64'));
  const ivs = getSubmissionIvs(instanceId, key);
  const version = attr(xml, 'version');
  let source = `${attr(xml, 'id')}\n${version == null ? '' : `${version}\n`}${encKey}\n${instanceId}\n`;
  const out = { media: [] };
  [...media, xmlFile].forEach((name, i) => {
    const plain = getSubmissionCleartext(key, ivs(i), Buffer.from(req.files[name], 'base64'));
    const plainName = name.replace(/\.enc$/, '');
    source += `${plainName}::${md5hex(plain)}\n`;
    if (i === media.length) out.instance = plain.toString('base64');
    else out.media.push({ name: plainName, data: plain.toString('base64') });
  });
  const sig = crypto.privateDecrypt({ key: priv, oaepHash: 'sha256', padding: crypto.constants.RSA_PKCS1_OAEP_PADDING },
    Buffer.from(text(xml, 'base64EncryptedElementSignature'), 'base64'));
  out.signatureValid = sig.equals(crypto.createHash('md5').update(source, 'utf8').digest());
  return out;
}

// golden encrypts as Collect's EncryptionUtils does, with Node's OpenSSL.
function golden(dir) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const oaep = (b) => crypto.publicEncrypt({ key: publicKey, oaepHash: 'sha256', padding: crypto.constants.RSA_PKCS1_OAEP_PADDING }, b);
  const formId = 'enc_golden';
  const version = '2026120401';
  const instanceId = 'uuid:5b0a3c2e-7f1d-4c8e-9a4b-2d6f8e1c0a9b';
  const instance = Buffer.from(`<?xml version='1.0' ?><data id="${formId}" version="${version}" xmlns:orx="http://openrosa.org/xforms"><name>Amina Ouédraogo</name><age>34</age><photo>door.jpg</photo><meta><orx:instanceID>${instanceId}</orx:instanceID></meta></data>`);
  const files = [{ name: 'door.jpg', data: crypto.randomBytes(1000) }, { name: 'note.txt', data: Buffer.from('sixteen bytes!!!') }, { name: 'submission.xml', data: instance }];
  const key = crypto.randomBytes(32);
  const encKey = oaep(key).toString('base64');
  const seed = crypto.createHash('md5').update(instanceId).update(key).digest();
  let source = `${formId}\n${version}\n${encKey}\n${instanceId}\n`;
  fs.mkdirSync(dir, { recursive: true });
  files.forEach((f, i) => {
    seed[i % 16] += 1;
    const pad = 16 - (f.data.length % 16);
    const c = crypto.createCipheriv('aes-256-cfb', key, Buffer.from(seed)).setAutoPadding(false);
    const enc = Buffer.concat([c.update(Buffer.concat([f.data, Buffer.alloc(pad, pad)])), c.final()]);
    fs.writeFileSync(path.join(dir, `${f.name}.enc`), enc);
    fs.writeFileSync(path.join(dir, `${f.name}.plain`), f.data);
    source += `${f.name}::${md5hex(f.data)}\n`;
  });
  const sig = oaep(crypto.createHash('md5').update(source, 'utf8').digest()).toString('base64');
  const manifest = `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><data xmlns="http://www.opendatakit.org/xforms/encrypted" id="${formId}" version="${version}" encrypted="yes"><base64EncryptedKey>${encKey}</base64EncryptedKey><orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>${instanceId}</orx:instanceID></orx:meta>\n<media><file>door.jpg.enc</file></media>\n<media><file>note.txt.enc</file></media>\n<encryptedXmlFile>submission.xml.enc</encryptedXmlFile><base64EncryptedElementSignature>${sig}</base64EncryptedElementSignature></data>`;
  fs.writeFileSync(path.join(dir, 'submission.xml'), manifest);
  fs.writeFileSync(path.join(dir, 'private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  fs.writeFileSync(path.join(dir, 'public.b64'), publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
}

if (process.argv[2] === 'decrypt') {
  process.stdout.write(JSON.stringify(decrypt(JSON.parse(fs.readFileSync(0, 'utf8')))));
} else if (process.argv[2] === 'golden') {
  golden(process.argv[3]);
} else {
  process.stderr.write('usage: node reference.js decrypt < request.json | golden DIR\n');
  process.exit(2);
}
