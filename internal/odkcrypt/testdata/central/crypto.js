// Copyright 2017 ODK Central Developers
// See the NOTICE file at the top-level directory of this distribution and at
// https://github.com/getodk/central-backend/blob/master/NOTICE.
// This file is part of ODK Central. It is subject to the license terms in
// the LICENSE file found in the top-level directory of this distribution and at
// https://www.apache.org/licenses/LICENSE-2.0. No part of ODK Central,
// including this file, may be copied, modified, propagated, or distributed
// except according to the terms contained in the LICENSE file.
//
// Various useful cryptography functions, for doing things like hashing passwords,
// generating random tokens, and encrypting/decrypting data.
//
// Copied unchanged from getodk/central-backend lib/util/crypto.js (commit
// 4f5943d13dd775fcecd2e21f9b8957db885d1ca3): the ODK submission decryption
// functions only (getSubmissionKey, getSubmissionIvs, getSubmissionCleartext),
// with Problem.user.undecryptable() replaced by a plain Error. Apache License
// 2.0: see LICENSE and NOTICE in this directory. dotm's tests use it as an
// independent reference for internal/odkcrypt.

const { createHash, createDecipheriv, privateDecrypt } = require('node:crypto');
const { RSA_NO_PADDING } = require('node:crypto').constants;
const { unpadPkcs1OaepMgf1Sha256 } = require('./oaep');
const { unpadPkcs7 } = require('./pkcs7');
const Problem = { user: { undecryptable: () => new Error('undecryptable') } };

// ODK SUBMISSION DECRYPTION UTIL
// implements https://getodk.github.io/xforms-spec/encryption

// priv: Buffer, encAes: String containing base64
// returns Buffer
const getSubmissionKey = (priv, encAes) => {
  const padded = privateDecrypt({ key: priv, padding: RSA_NO_PADDING }, encAes);
  if (padded.length !== 256) throw Problem.user.undecryptable(); // not sure this can even ever happen.
  return unpadPkcs1OaepMgf1Sha256(padded);
};

// (instanceId: Utf8String, key: Buffer) => (n: Int) => Buffer(32) iv for index n
const getSubmissionIvs = (instanceId, key) => {
  // generate the initial iv and the iv cache.
  const ivs = [];
  const runner = createHash('md5').update(instanceId).update(key).digest();

  return (n) => {
    if (n >= ivs.length) {
      for (let idx = ivs.length; idx <= n; idx += 1) {
        runner[idx % 16] += 1;
        ivs[idx] = Buffer.from(runner);
      }
    }
    return ivs[n];
  };
};
// returns a Buffer with the cleartext in it.
const getSubmissionCleartext = (key, iv, input) => {
  const decipher = createDecipheriv('aes-256-cfb', key, iv).setAutoPadding(false);
  const padded = Buffer.concat([ decipher.update(input), decipher.final() ]);
  const result = unpadPkcs7(padded);
  if (result == null) throw Problem.user.undecryptable();
  return result;
};

module.exports = { getSubmissionKey, getSubmissionIvs, getSubmissionCleartext };
