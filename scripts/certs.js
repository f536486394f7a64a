'use strict'
// TLS material for the tests, made with the openssl CLI (argument arrays, no shell): a CA, a server
// leaf with an IP SAN for 127.0.0.1 (rustls rejects a CA used as the leaf, and a leaf without a
// SAN for the address dialled), a client leaf for containerd's mTLS, and an unrelated CA; then a
// leaf for the HTTPS registry (same CA) and the token server's RSA signing certificate.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
const SERVER_LEAF = ['basicConstraints=CA:FALSE', 'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost']

function openssl(args) {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

function makeCa(dir, name) {
  const key = path.join(dir, `${name}.key`)
  const cert = path.join(dir, `${name}.pem`)
  openssl(['req', '-x509', ...KEY, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=containerd-napi ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  return { key, cert }
}

function makeLeaf(dir, name, ca, extensions) {
  const key = path.join(dir, `${name}.key`)
  const csr = path.join(dir, `${name}.csr`)
  const cert = path.join(dir, `${name}.pem`)
  const ext = path.join(dir, `${name}.ext`)
  fs.writeFileSync(ext, extensions.join('\n') + '\n')
  openssl(['req', '-new', ...KEY, '-keyout', key, '-out', csr, '-subj', `/CN=containerd-napi ${name}`])
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert,
    '-days', '2', '-extfile', ext])
  return { key, cert }
}

/** Writes everything into `dir`; returns the file paths. */
function makeTlsMaterial(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const ca = makeCa(dir, 'ca')
  const server = makeLeaf(dir, 'server', ca, SERVER_LEAF)
  const client = makeLeaf(dir, 'client', ca, ['basicConstraints=CA:FALSE', 'extendedKeyUsage=clientAuth'])
  const wrongCa = makeCa(dir, 'wrong-ca')
  return { ca: ca.cert, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key, wrongCa: wrongCa.cert }
}

/** A server leaf for the HTTPS registry, signed by the CA that makeTlsMaterial wrote into `dir`. */
function makeRegistryCert(dir) {
  const ca = { cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca.key') }
  const leaf = makeLeaf(dir, 'registry', ca, SERVER_LEAF)
  // skopeo's --cert-dir (Docker's certs.d convention) takes the CAs from the *.crt files of a
  // directory and refuses one holding a *.key without its *.cert, so the CA gets a directory of its own.
  const trustDir = path.join(dir, 'registry-trust')
  fs.mkdirSync(trustDir, { recursive: true })
  fs.copyFileSync(ca.cert, path.join(trustDir, 'ca.crt'))
  return { ...leaf, trustDir }
}

/**
 * The token server's signing key and self-signed certificate: RSA, because the registry verifies
 * RS256; the certificate is both the registry's `rootcertbundle` and the `x5c` of every token.
 */
function makeTokenSigner(dir) {
  const key = path.join(dir, 'token-signer.key')
  const cert = path.join(dir, 'token-signer.pem')
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=containerd-napi token signer'])
  return { key, cert }
}

module.exports = { makeTlsMaterial, makeRegistryCert, makeTokenSigner }
