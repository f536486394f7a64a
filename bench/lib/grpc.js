'use strict'
// The "old approach" in Node: @grpc/grpc-js with @grpc/proto-loader loading containerd's .proto
// files at run time (the ones vendored in the containerd-client crate the addon is built from).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const REPO = path.resolve(__dirname, '../..')
const API = 'github.com/containerd/containerd/api/services'
const PROTOS = [`${API}/version/v1/version.proto`, `${API}/images/v1/images.proto`, `${API}/containers/v1/containers.proto`]
// What proto-loader's README recommends, and what most hand-written clients use.
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }

/** The vendor/ directory of the containerd-client crate Cargo resolves for this repository. */
function vendorDir() {
  let out
  try {
    out = execFileSync('cargo', ['metadata', '--format-version', '1', '--offline'], { cwd: REPO, maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch {
    out = execFileSync('cargo', ['metadata', '--format-version', '1'], { cwd: REPO, maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] })
  }
  const pkg = JSON.parse(out).packages.find((p) => p.name === 'containerd-client')
  if (!pkg) throw new Error('cargo metadata does not list containerd-client')
  const dir = path.join(path.dirname(pkg.manifest_path), 'vendor')
  for (const proto of PROTOS) {
    if (!fs.existsSync(path.join(dir, proto))) throw new Error(`${proto} not found under ${dir}`)
  }
  return { dir, version: pkg.version }
}

/**
 * Loads the protos and connects (waitForReady) to unix://socket. Everything is required here, so
 * timing this call from a fresh process measures load + connect. Returns promisified calls.
 */
async function connectGrpc({ socket, vendor, namespace = 'default' }) {
  const grpc = require('@grpc/grpc-js')
  const loader = require('@grpc/proto-loader')
  const definition = loader.loadSync(PROTOS, { ...LOADER_OPTIONS, includeDirs: [vendor] })
  const api = grpc.loadPackageDefinition(definition).containerd.services
  const loadedAt = performance.now()
  // containerd's Go client allows 16 MiB messages; grpc-js's 4 MiB default is too small for
  // 1,000 containers with their specs.
  const options = { 'grpc.max_receive_message_length': 16 << 20, 'grpc.max_send_message_length': 16 << 20 }
  const target = `unix://${socket}`
  const version = new api.version.v1.Version(target, grpc.credentials.createInsecure(), options)
  const channelOverride = version.getChannel()
  const images = new api.images.v1.Images(target, grpc.credentials.createInsecure(), { ...options, channelOverride })
  const containers = new api.containers.v1.Containers(target, grpc.credentials.createInsecure(), { ...options, channelOverride })
  await new Promise((resolve, reject) => version.waitForReady(Date.now() + 10000, (err) => (err ? reject(err) : resolve())))

  const metadata = new grpc.Metadata()
  metadata.set('containerd-namespace', namespace)
  const unary = (client, method) => (request) =>
    new Promise((resolve, reject) => client[method](request, metadata, (err, reply) => (err ? reject(err) : resolve(reply))))
  return {
    grpc,
    /** performance.now() when the libraries were loaded and the protos parsed (before connecting). */
    loadedAt,
    version: unary(version, 'Version'),
    listImages: unary(images, 'List'),
    getImage: unary(images, 'Get'),
    createImage: unary(images, 'Create'),
    deleteImage: unary(images, 'Delete'),
    listContainers: unary(containers, 'List'),
    /** The same connection, calls sent with another namespace. */
    withNamespace(ns) {
      const md = new grpc.Metadata()
      md.set('containerd-namespace', ns)
      const u = (client, method) => (request) =>
        new Promise((resolve, reject) => client[method](request, md, (err, reply) => (err ? reject(err) : resolve(reply))))
      return {
        version: u(version, 'Version'), listImages: u(images, 'List'), getImage: u(images, 'Get'),
        createImage: u(images, 'Create'), deleteImage: u(images, 'Delete'), listContainers: u(containers, 'List'),
      }
    },
    close() {
      version.close()
      images.close()
      containers.close()
    },
  }
}

module.exports = { vendorDir, connectGrpc, PROTOS, LOADER_OPTIONS }
