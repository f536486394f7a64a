#!/usr/bin/env node
'use strict'
// A byte-for-byte TCP (or mTLS) front for containerd's unix socket, run by the sandbox.
// containerd 1.6 serves only CRI on its own grpc.tcp_address (services implementing RegisterTCP),
// so tcp:// access to the real API goes through a forwarder like this one (as socat or stunnel
// would do in production). Nothing is parsed or changed in between.
//
//   node proxy.js LISTEN_PORT UNIX_SOCKET [CERT KEY CA]   (with CERT: TLS, client certs required)

const fs = require('node:fs')
const net = require('node:net')
const tls = require('node:tls')

const [port, socket, cert, key, ca] = process.argv.slice(2)

function forward(client) {
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
