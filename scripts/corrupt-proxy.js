#!/usr/bin/env node
'use strict'
// An HTTP front for the sandbox registry that corrupts blobs, run by the sandbox. Every request is
// forwarded as it is (method, path, headers including Host, body) and every response comes back
// unchanged (status, headers, redirects), except the body of a GET /v2/<name>/blobs/sha256:<hex>:
// a few bytes in its middle are flipped, with Content-Length and Docker-Content-Digest untouched.
// So a client notices only by verifying the digest. Manifests pass through as they are.
// Redirects need nothing special: the Host header goes upstream unchanged, so any Location the
// registry builds points back here (the filesystem registry serves blobs itself anyway).
// Note: containerd shares content between namespaces, so a daemon that already holds a blob
// (from a pull of the same image in any namespace) never fetches it here and the pull succeeds.
//
//   node corrupt-proxy.js LISTEN_PORT UPSTREAM_HOST:PORT JOURNAL
//   (JOURNAL: a file that gets one line per corrupted response, its request path)

const fs = require('node:fs')
const http = require('node:http')

const [port, upstream, journal] = process.argv.slice(2)
const colon = upstream.lastIndexOf(':')
const target = { host: upstream.slice(0, colon), port: Number(upstream.slice(colon + 1)) }
const BLOB = /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}(\?.*)?$/

function corrupt(body) {
  const middle = body.length >> 1
  for (let i = middle; i < Math.min(middle + 16, body.length); i++) body[i] ^= 0xff
  return body
}

http.createServer((req, res) => {
  const forward = http.request({ ...target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    const blob = req.method === 'GET' && BLOB.test(req.url) && (answer.statusCode === 200 || answer.statusCode === 206)
    if (!blob) {
      res.writeHead(answer.statusCode, answer.statusMessage, answer.rawHeaders)
      answer.pipe(res)
      return
    }
    // Blobs are small here: buffer the whole body, then send it damaged under the same headers.
    const chunks = []
    answer.on('data', (chunk) => chunks.push(chunk))
    answer.on('end', () => {
      fs.appendFileSync(journal, `${req.url}\n`)
      res.writeHead(answer.statusCode, answer.statusMessage, answer.rawHeaders)
      res.end(corrupt(Buffer.concat(chunks)))
    })
    answer.on('error', () => res.destroy())
  })
  forward.on('error', (err) => {
    if (res.headersSent) return res.destroy()
    res.writeHead(502, { 'content-type': 'text/plain' })
    res.end(`corrupt-proxy: ${err.message}\n`)
  })
  req.pipe(forward)
}).listen(Number(port), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
