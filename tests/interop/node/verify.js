// Verifies one key-signed bundle with stock sigstore-js (@sigstore/verify), as npm's own
// verification does, with key-based trust material and a trusted_root.json:
//
//   node verify.js BUNDLE ARTIFACT TRUSTED_ROOT KEY.pub [ITERATIONS]
//
// Exit 0 and "verified" on success; exit 1 and the error otherwise. With ITERATIONS > 1 it
// also times verify() (after warm-up) and prints "us_per_verify <n>" for docs/performance.md.
'use strict';
const fs = require('fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

function pemToDer(pem) {
  const b64 = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

function main() {
  const [bundlePath, artifactPath, rootPath, keyPath, iterations] = process.argv.slice(2);
  if (!keyPath) {
    console.error('usage: node verify.js BUNDLE ARTIFACT TRUSTED_ROOT KEY.pub [ITERATIONS]');
    process.exit(2);
  }
  const bundleJSON = JSON.parse(fs.readFileSync(bundlePath, 'utf8'));
  const artifact = fs.readFileSync(artifactPath);
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
  const rawBytes = pemToDer(fs.readFileSync(keyPath, 'utf8'));
  // Key-based trust: the bundle's publicKey.hint names the key.
  const keys = (hint) => {
    if (hint !== bundleJSON.verificationMaterial.publicKey.hint) {
      throw new Error(`unexpected key hint ${hint}`);
    }
    return { publicKey: require('crypto').createPublicKey({ key: rawBytes, format: 'der', type: 'spki' }), validFor: () => true };
  };
  const verifier = new Verifier(toTrustMaterial(root, keys));
  const run = () => {
    const bundle = bundleFromJSON(bundleJSON);
    verifier.verify(toSignedEntity(bundle, artifact));
  };
  run();
  const n = Number(iterations || 1);
  if (n > 1) {
    for (let i = 0; i < Math.min(n, 200); i++) run();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) run();
    const ns = Number(process.hrtime.bigint() - start);
    console.log(`us_per_verify ${(ns / n / 1000).toFixed(1)}`);
  }
  console.log('verified');
}

try {
  main();
} catch (e) {
  console.error(`sigstore-js: ${e.code || e.name}: ${e.message}`);
  process.exit(1);
}
