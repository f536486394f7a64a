#!/usr/bin/env node
'use strict'
// A byte-for-byte TCP (or mTLS) front for containerd's unix socket, run by the sandbox.
// containerd 1.6 serves only CRI on its own grpc.tcp_address (services implementing RegisterTCP),
// so tcp:// access to the real API goes through a forwarder like this one (as socat or stunnel
// would do in production). Nothing is parsed or changed in between. Only the test stack runs it
// (scripts/sandbox.js with tcp: true): a TCP port onto a root containerd is root for whoever can
// connect, so the plain one takes connections only from processes of its own user (checked in
// /proc/net/tcp), and the TLS one only with a client certificate of the sandbox's CA.
//
//   node proxy.js LISTEN_PORT UNIX_SOCKET [CERT KEY CA]   (with CERT: TLS, client certs required)

const fs = require('node:fs')
const net = require('node:net')
const tls = require('node:tls')

const [port, socket, cert, key, ca] = process.argv.slice(2)

/** The uid owning the local end of a loopback connection to our port from `peerPort`, or null. */
function peerUid(peerPort, ownPort) {
  const hex = (p) => p.toString(16).toUpperCase().padStart(4, '0')
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines = []
    try { lines = fs.readFileSync(table, 'utf8').split('\n').slice(1) } catch {}
    for (const line of lines) {
      const f = line.trim().split(/\s+/)
      if (f[1]?.endsWith(`:${hex(peerPort)}`) && f[2]?.endsWith(`:${hex(ownPort)}`)) return Number(f[7])
    }
  }
  return null
}

function forward(client) {
  if (!cert && peerUid(client.remotePort, client.localPort) !== process.getuid()) return client.destroy()
  const upstream = net.connect(socket)
  client.pipe(upstream).pipe(client)
  const end = () => { client.destroy(); upstream.destroy() }
  client.on('error', end)
  upstream.on('error', end)
  client.on('close', end)
  upstream.on('close', end)
}

const server = cert
  ? tls.createServer({
    cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca),
    requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'],
  }, forward)
  : net.createServer(forward)
server.on('tlsClientError', () => {})
server.listen(Number(port), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
