'use strict'
// The public Client (README.md): argument shaping over NativeClient, nothing more.

const { binding, call, callSync } = require('./native.js')
const check = require('./check.js')
// Loaded on first use: a process that only connects skips about a fifth of the package's load time.
const images = () => require('./image.js')
const containers = () => require('./container.js')
const events = () => require('./events.js')
const archives = () => require('./archive.js')
const { InvalidArgumentError, DeadlineExceededError, ResourceExhaustedError } = require('./errors.js')

// Only Client.connect() and withNamespace() construct clients.
const INTERNAL = Symbol('containerd-napi.internal')

class Client {
  #native

  constructor(token, native) {
    if (token !== INTERNAL) throw new TypeError('use Client.connect() to create a Client')
    this.#native = native
  }

  /** @param {import('../index').ConnectOptions} [options] */
  static async connect(options) {
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['address', 'namespace', 'timeoutMs', 'tls', 'signal'])
    const tls = o.tls === undefined ? undefined : check.known(check.optionalObject(o.tls, 'options.tls'), 'options.tls', ['ca', 'cert', 'key', 'serverName'])
    const nativeOptions = {
      address: check.optionalString(o.address, 'options.address'),
      namespace: check.optionalString(o.namespace, 'options.namespace'),
      timeoutMs: check.optionalNumber(o.timeoutMs, 'options.timeoutMs'),
      tls: tls && {
        ca: check.optionalPem(tls.ca, 'options.tls.ca'),
        cert: check.optionalPem(tls.cert, 'options.tls.cert'),
        key: check.optionalPem(tls.key, 'options.tls.key'),
        serverName: check.optionalString(tls.serverName, 'options.tls.serverName'),
      },
    }
    const native = await call('connect', o.signal, (h) => binding.connect(nativeOptions, h))
    return new Client(INTERNAL, native)
  }

  get address() {
    return this.#native.address
  }

  get namespace() {
    return this.#native.namespace
  }

  /** @internal gRPC calls started over this connection (for tests and benchmarks, not the API). */
  get [Symbol.for('containerd-napi.callCount')]() {
    return this.#native.callCount
  }

  /** @internal Of those, the calls made over this JS thread's own connection (tests, benchmarks). */
  get [Symbol.for('containerd-napi.threadCallCount')]() {
    return this.#native.threadCallCount
  }

  withNamespace(namespace) {
    check.string(namespace, 'namespace')
    return new Client(INTERNAL, callSync(() => this.#native.withNamespace(namespace)))
  }

  async version(options) {
    const { signal } = check.signalOnly(options)
    return call('version', signal, (h) => this.#native.version(h))
  }

  async plugins(options) {
    const { signal } = check.signalOnly(options)
    return call('plugins', signal, (h) => this.#native.plugins(h))
  }

  async close() {
    this.#native.close()
  }

  [Symbol.asyncDispose]() {
    return this.close()
  }

  async listNamespaces(options) {
    const { signal } = check.signalOnly(options)
    return call('list namespaces', signal, (h) => this.#native.listNamespaces(h))
  }

  async createNamespace(name, labels, options) {
    check.string(name, 'name')
    check.stringRecord(labels, 'labels')
    const { signal } = check.signalOnly(options)
    await call('create namespace', signal, (h) => this.#native.createNamespace(name, labels, h))
  }

  async deleteNamespace(name, options) {
    check.string(name, 'name')
    const { signal } = check.signalOnly(options)
    await call('delete namespace', signal, (h) => this.#native.deleteNamespace(name, h))
  }

  /** @param {string} ref @param {import('../index').PullOptions} [options] */
  async pull(ref, options) {
    check.string(ref, 'ref')
    const o = check.optionalObject(options, 'options')
    const native = nativePullOptions(o)
    const progress = progressCallback(o.onProgress)
    const info = await call('pull', o.signal, (h) => this.#native.pull(ref, native, progress?.callback, h))
    // Reports travel on their own queue: hand back the image only after the final one.
    if (progress) await progress.done
    return new (images().Image)(this.#native, info)
  }

  /**
   * Pushes a stored image (its manifest/index bytes as stored) to `target` (default: its name).
   * @param {string} name @param {import('../index').PushOptions} [options]
   */
  async push(name, options) {
    check.string(name, 'name')
    const o = check.known(check.optionalObject(options, 'options'), 'options',
      ['target', 'platform', 'plainHttp', 'maxConcurrentUploads', 'tls', 'auth', 'onProgress', 'signal'])
    const native = {
      target: check.optionalString(o.target, 'options.target'),
      platform: check.optionalString(o.platform, 'options.platform'),
      plainHttp: check.optionalBoolean(o.plainHttp, 'options.plainHttp'),
      maxConcurrentUploads: check.optionalNumber(o.maxConcurrentUploads, 'options.maxConcurrentUploads'),
      tls: registryTls(o.tls, 'options.tls'),
      auth: registryAuth(o.auth),
    }
    const progress = progressCallback(o.onProgress)
    const pushed = await call('push', o.signal, (h) => this.#native.push(name, native, progress?.callback, h))
    if (progress) await progress.done
    return { digest: pushed.digest, size: pushed.size }
  }

  async getImage(name, options) {
    check.string(name, 'name')
    const { signal } = check.signalOnly(options)
    return new (images().Image)(this.#native, await call('get image', signal, (h) => this.#native.getImage(name, h)))
  }

  async listImages(filters, options) {
    check.optionalStrings(filters, 'filters')
    const { signal } = check.signalOnly(options)
    const list = JSON.parse(await call('list images', signal, (h) => this.#native.listImages(filters, h)))
    const { Image } = images()
    return list.map((info) => new Image(this.#native, info))
  }

  async createContainer(id, options) {
    check.string(id, 'id')
    const native = containers().containerOptions(options)
    const info = await call('create container', options?.signal, (h) => this.#native.createContainer(id, native, h))
    return new (containers().Container)(this.#native, info)
  }

  async getContainer(id, options) {
    check.string(id, 'id')
    const { signal } = check.signalOnly(options)
    return new (containers().Container)(this.#native, await call('get container', signal, (h) => this.#native.getContainer(id, h)))
  }

  async listContainers(filters, options) {
    check.optionalStrings(filters, 'filters')
    const { signal } = check.signalOnly(options)
    const list = JSON.parse(await call('list containers', signal, (h) => this.#native.listContainers(filters, h)))
    const { Container } = containers()
    return list.map((info) => new Container(this.#native, info))
  }

  /**
   * Like `ctr run --rm`: pull if missing, create, start, collect the output, remove everything.
   * @param {string | Image} image @param {string[]} [args] @param {import('../index').RunOptions} [options]
   */
  async run(image, args, options) {
    const o = check.optionalObject(options, 'options')
    const { id, pull, input, timeoutMs, maxBuffer, encoding, signal, ...rest } = o
    if (encoding !== undefined && encoding !== 'buffer' && !(typeof encoding === 'string' && Buffer.isEncoding(encoding))) {
      throw new InvalidArgumentError(`options.encoding must be 'buffer' or a Buffer encoding such as 'utf8', got ${JSON.stringify(encoding)}`)
    }
    const container = containers().containerOptions({ ...rest, image, args })
    let pullOptions
    if (pull !== undefined && typeof pull !== 'boolean') pullOptions = nativePullOptions(pull, 'options.pull', [])
    const native = {
      container,
      id: check.optionalString(id, 'options.id'),
      pull: pull === undefined || pullOptions !== undefined ? true : pull,
      pullOptions,
      input: input === undefined ? undefined : typeof input === 'string' ? Buffer.from(input) : checkBuffer(input),
      timeoutMs: check.optionalNumber(timeoutMs, 'options.timeoutMs'),
      maxBuffer: check.optionalNumber(maxBuffer, 'options.maxBuffer'),
    }
    const result = await call('run', signal, (h) => this.#native.run(native, h))
    const decode = (bytes) => (encoding === 'buffer' ? bytes : bytes.toString(encoding ?? 'utf8'))
    const out = { exitCode: result.exitCode, stdout: decode(result.stdout), stderr: decode(result.stderr), exitedAt: new Date(result.exitedAt) }
    if (result.maxBufferExceeded) {
      const limit = maxBuffer ?? 64 * 1024 * 1024
      const err = new ResourceExhaustedError(`run: the output passed maxBuffer (${limit} bytes per stream); the process was killed`)
      Object.assign(err, { stdout: out.stdout, stderr: out.stderr })
      throw err
    }
    if (result.timedOut) {
      const err = new DeadlineExceededError(`run: the process did not exit within ${timeoutMs} ms and was killed`)
      Object.assign(err, { stdout: out.stdout, stderr: out.stderr })
      throw err
    }
    return out
  }

  /**
   * Subscribes to events (in this client's namespace unless allNamespaces); returns at once.
   * `await stream.ready` before acting on what you want to observe.
   */
  subscribe(options) {
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['filters', 'allNamespaces', 'queueLimit', 'signal'])
    const filters = check.optionalStrings(o.filters, 'options.filters')
    const all = check.optionalBoolean(o.allNamespaces, 'options.allNamespaces')
    const limit = check.optionalNumber(o.queueLimit, 'options.queueLimit')
    if (o.signal != null && typeof o.signal?.addEventListener !== 'function') throw new InvalidArgumentError('signal must be an AbortSignal')
    const native = call('subscribe', undefined, () => this.#native.subscribe(filters, all, limit))
    return new (events().EventStream)(native, o.signal)
  }

  async listTasks(options) {
    const { signal } = check.signalOnly(options)
    const list = await call('list tasks', signal, (h) => this.#native.listTasks(h))
    return list.map((t) => {
      const out = { id: t.id, pid: t.pid, status: t.status }
      if (t.exitCode != null) Object.assign(out, { exitCode: t.exitCode, exitedAt: new Date(t.exitedAt) })
      return out
    })
  }

  /**
   * One tar of `names` that is an OCI layout and a `docker save` archive, streamed. Resolves once
   * every image was found (NotFoundError before any byte).
   */
  async exportImages(names, options) {
    const list = typeof names === 'string' ? [names] : check.optionalStrings(names, 'names')
    if (!list || list.length === 0) throw new InvalidArgumentError('names must be an image name or a non-empty array of them')
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['platform', 'signal'])
    const platform = check.optionalString(o.platform, 'options.platform')
    const native = await call('export images', o.signal, (h) => this.#native.exportImages(list, platform, h))
    return archives().exportReadable(native, o.signal)
  }

  /**
   * Imports an OCI layout or `docker save` tar (plain or gzip) from a path, a Buffer or a Readable.
   * @returns {Promise<import('../index').Image[]>}
   */
  async importImages(source, options) {
    const o = check.known(check.optionalObject(options, 'options'), 'options',
      ['unpack', 'snapshotter', 'platform', 'labels', 'signal'])
    const native = {
      unpack: check.optionalBoolean(o.unpack, 'options.unpack'),
      snapshotter: check.optionalString(o.snapshotter, 'options.snapshotter'),
      platform: check.optionalString(o.platform, 'options.platform'),
      labels: check.stringRecord(o.labels, 'options.labels'),
    }
    const infos = await archives().importArchive(this.#native, source, native, o.signal)
    const { Image } = images()
    return infos.map((info) => new Image(this.#native, info))
  }

  /** A second name for an image (AlreadyExistsError for a name in use, unless `force`). */
  async tagImage(source, target, options) {
    check.string(source, 'source')
    check.string(target, 'target')
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['force', 'signal'])
    const force = check.optionalBoolean(o.force, 'options.force')
    const info = await call('tag image', o.signal, (h) => this.#native.tagImage(source, target, force, h))
    return new (images().Image)(this.#native, info)
  }

  async deleteImage(name, options) {
    check.string(name, 'name')
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['sync', 'signal'])
    const sync = check.optionalBoolean(o.sync, 'options.sync')
    await call('delete image', o.signal, (h) => this.#native.deleteImage(name, sync, h))
  }

  // ---------- networks (bridge networking through the CNI plugins; daemon on this host) ----------

  /** @param {string} name @param {import('../index').NetworkOptions} [options] */
  async createNetwork(name, options) {
    check.string(name, 'name')
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['subnet', 'gateway', 'ipMasq', 'labels', 'signal'])
    const native = {
      subnet: check.optionalString(o.subnet, 'options.subnet'),
      gateway: check.optionalString(o.gateway, 'options.gateway'),
      ipMasq: check.optionalBoolean(o.ipMasq, 'options.ipMasq'),
      labels: check.stringRecord(o.labels, 'options.labels'),
    }
    return networkInfo(await call('create network', o.signal, () => this.#native.createNetwork(name, native)))
  }

  async listNetworks(options) {
    const { signal } = check.signalOnly(options)
    return JSON.parse(await call('list networks', signal, () => this.#native.listNetworks())).map(networkInfo)
  }

  async getNetwork(name, options) {
    check.string(name, 'name')
    const { signal } = check.signalOnly(options)
    return networkInfo(await call('get network', signal, () => this.#native.getNetwork(name)))
  }

  async deleteNetwork(name, options) {
    check.string(name, 'name')
    const { signal } = check.signalOnly(options)
    await call('delete network', signal, (h) => this.#native.deleteNetwork(name, h))
  }

  /**
   * Removes, in this namespace, what processes on this machine that died left: run() containers
   * (with tasks and snapshots) and leases (a killed pull's content goes now); then cleanupNetworks()
   * when the daemon is local. Containers made with createContainer or by ctr, and those of live
   * processes, are never touched.
   */
  async cleanup(options) {
    const { signal } = check.signalOnly(options)
    const r = await call('cleanup', signal, (h) => this.#native.cleanup(h))
    return { containers: r.containers, leases: r.leases, networks: r.networks }
  }

  /** Removes what crashed processes left: namespaces, IP leases, iptables rules of no container. */
  async cleanupNetworks(options) {
    const { signal } = check.signalOnly(options)
    return { removed: await call('cleanup networks', signal, (h) => this.#native.cleanupNetworks(h)) }
  }
}

function networkInfo(n) {
  return { name: n.name, subnet: n.subnet, gateway: n.gateway, bridge: n.bridge, ipMasq: n.ipMasq, labels: n.labels }
}

/** PullOptions → the native shape (onProgress and signal are handled by the caller). */
function nativePullOptions(options, name = 'options', extra = ['onProgress', 'signal']) {
  const o = check.optionalObject(options, name)
  check.known(o, name, ['platform', 'plainHttp', 'maxConcurrentDownloads', 'labels', 'tls', 'auth', 'unpack', 'snapshotter', 'stallTimeoutMs', ...extra])
  return {
    platform: check.optionalString(o.platform, 'options.platform'),
    plainHttp: check.optionalBoolean(o.plainHttp, 'options.plainHttp'),
    maxConcurrentDownloads: check.optionalNumber(o.maxConcurrentDownloads, 'options.maxConcurrentDownloads'),
    labels: check.stringRecord(o.labels, 'options.labels'),
    tls: registryTls(o.tls, `${name}.tls`),
    auth: registryAuth(o.auth),
    unpack: check.optionalBoolean(o.unpack, 'options.unpack'),
    snapshotter: check.optionalString(o.snapshotter, 'options.snapshotter'),
    stallTimeoutMs: check.optionalNumber(o.stallTimeoutMs, 'options.stallTimeoutMs'),
  }
}

function checkBuffer(value) {
  if (!Buffer.isBuffer(value)) throw new InvalidArgumentError('options.input must be a string or a Buffer')
  return value
}

/**
 * Wraps a user's onProgress so that a throwing callback cannot crash the process, and tells when
 * the final ('done') report has been delivered.
 */
function progressCallback(onProgress) {
  if (onProgress === undefined) return undefined
  if (typeof onProgress !== 'function') throw new InvalidArgumentError('options.onProgress must be a function')
  let delivered
  let warned = false
  const done = new Promise((resolve) => { delivered = resolve })
  const callback = (report) => {
    try {
      onProgress(report)
    } catch (err) {
      // Once per pull or push: a callback that throws usually throws on every report.
      if (!warned) process.emitWarning(`containerd-napi: onProgress threw (reported once per call): ${err?.stack ?? err}`)
      warned = true
    }
    if (report.phase === 'done') delivered()
  }
  return { callback, done }
}

/** A registry's `{ ca, insecureSkipVerify }`. */
function registryTls(value, name) {
  if (value === undefined) return undefined
  const tls = check.known(check.optionalObject(value, name), name, ['ca', 'insecureSkipVerify'])
  return {
    ca: check.optionalPem(tls.ca, 'options.tls.ca'),
    insecureSkipVerify: check.optionalBoolean(tls.insecureSkipVerify, 'options.tls.insecureSkipVerify'),
  }
}

/** `{ username, password }` or `{ token }`. */
function registryAuth(auth) {
  if (auth === undefined) return undefined
  check.known(check.optionalObject(auth, 'options.auth'), 'options.auth', ['username', 'password', 'token'])
  if (auth.token !== undefined) return { token: check.string(auth.token, 'options.auth.token') }
  if (auth.username === undefined) throw new InvalidArgumentError('options.auth needs { username, password } or { token }')
  return { username: check.string(auth.username, 'options.auth.username'), password: check.string(auth.password, 'options.auth.password') }
}

module.exports = { Client }
