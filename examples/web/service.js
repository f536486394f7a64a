'use strict'
// The framework-agnostic service behind both example servers: one containerd connection with a
// Client view per namespace, and one method per route. Methods take the route's parameters and
// the parsed JSON body, validate them, and resolve with plain JSON; failures are typed
// ContainerdErrors (errorResponse() in http.js maps them to HTTP statuses). Streaming methods
// take `open()`, which turns the response into an event stream once there is something to send,
// so that a failure before that (unknown container, daemon down) is still an ordinary status.

const crypto = require('node:crypto')
const fs = require('node:fs')
const {
  Client, NotFoundError, FailedPreconditionError, DeadlineExceededError, CancelledError, InvalidArgumentError, ResourceExhaustedError,
  UnauthenticatedError,
} = require('../..')
const { errorResponse } = require('./http.js')
const { privateLogDir, logPath, ensureFile, follow } = require('./logs.js')
const { createPolicy, checkContainer } = require('./policy.js')
const v = require('./validate.js')

const EXEC_TIMEOUT_MS = 30000
const EXEC_OUTPUT_LIMIT = 1 << 20
const PULL_RETENTION_MS = 5 * 60 * 1000
// Bounds on what requests can make the server hold (past them: 429).
const MAX_STREAMS = 64 // open event streams (each holds a connection and a file watch or subscription)
const MAX_PULLS = 4 // pulls in progress
const MAX_KEPT_PULLS = 256 // pulls and pushes remembered for late subscribers
const MAX_IMPORTS = 2 // archive uploads being imported
const STATS_INTERVAL_MS = 1000 // one stats sample a second
const STOP_TIMEOUT_MS = 10000 // stop: SIGTERM, then SIGKILL after this long
const LOG_TAIL = 200 // records a log stream starts with
// The container label where the server notes when it started each task (ms since the epoch, the
// last MAX_STARTS, space-separated), so a log read later (after a server restart too) can show
// where each task began.
const STARTS_LABEL = 'containerd-napi-web/task-starts'
const MAX_STARTS = 32
// The label the library puts on a container made with `log` (its log directory).
const LOG_LABEL = 'containerd-napi/log.dir'

// The fields of POST …/containers → the client option each becomes (undefined: not set). A new
// field goes here; whatever it takes from the host is checked in policy.js.
const CONTAINER_FIELDS = {
  image: (x) => v.imageRef(x, 'image'),
  args: (x) => v.strings(x, 'args', { nonEmpty: true }),
  env: (x) => v.env(x),
  cwd: (x) => v.string(x, 'cwd', { optional: true }),
  user: (x) => v.string(x, 'user', { max: 256, optional: true }),
  hostNetwork: (x) => v.boolean(x, 'hostNetwork'),
  network: (x) => v.network(x),
  ports: (x) => v.ports(x),
  dns: (x) => v.dns(x),
  privileged: (x) => v.boolean(x, 'privileged'),
  capabilities: (x) => v.capabilities(x),
  mounts: (x) => v.mounts(x),
  labels: (x) => v.stringMap(x, 'labels'),
  restart: (x) => v.restart(x),
}

/** Rejects fields a route does not know, so a typo is a 400 rather than silently ignored. */
function only(body, fields) {
  const b = v.body(body)
  const unknown = Object.keys(b).filter((k) => !fields.includes(k))
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown field(s): ${unknown.join(', ')}`)
  return b
}

/** A unix socket address: the daemon runs on this host, so the library's logs work. */
const isLocal = (address) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(address) || address.startsWith('unix://')

/** Whether a container was made with `log` (its tasks default to stdio 'log'). */
const hasLog = (container) => container.labels[LOG_LABEL] !== undefined

/** The task start times noted on a container (ms, oldest first). */
const startsOf = (container) => (container.labels[STARTS_LABEL] ?? '').split(' ').map(Number).filter((t) => Number.isSafeInteger(t) && t > 0)

const withoutUndefined = (o) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined))

async function imageJson(image) {
  return {
    name: image.name,
    digest: image.target.digest,
    mediaType: image.target.mediaType,
    size: await image.size().catch(() => null),
    labels: image.labels,
    createdAt: image.createdAt,
  }
}

/** 'linux/amd64' (with a variant: 'linux/arm/v7'): the platform a pull chose from an index; null if unknown. */
async function platformOf(image) {
  const config = await image.config().catch(() => null)
  return config ? [config.os, config.architecture, config.variant].filter(Boolean).join('/') : null
}

/** { name, ip, gateway, ports } of the container's network, or null (none, host, or gone meanwhile). */
const networkOf = (container) => container.network().catch(() => null)

/** Reads a stream into a string, keeping at most `limit` bytes (the rest is drained). */
function collect(stream, limit = EXEC_OUTPUT_LIMIT) {
  if (!stream) return Promise.resolve({ text: '', truncated: false })
  return new Promise((resolve) => {
    const chunks = []
    let size = 0
    let truncated = false
    stream.on('data', (chunk) => {
      if (size + chunk.length > limit) { truncated = true; chunk = chunk.subarray(0, Math.max(0, limit - size)) }
      size += chunk.length
      if (chunk.length) chunks.push(chunk)
    })
    const done = () => resolve({ text: Buffer.concat(chunks).toString('utf8'), truncated })
    stream.on('end', done)
    stream.on('close', done)
    stream.on('error', done)
  })
}

/**
 * A registry's refusal in words for the browser's user: the library speaks of the docker config
 * (the server's, which they cannot change); here credentials come from the pull form.
 */
function registryError(err, ref, auth) {
  if (!(err instanceof UnauthenticatedError)) return err
  const host = ref.includes('/') && /[.:]|^localhost$/.test(ref.split('/')[0]) ? ref.split('/')[0] : 'docker.io'
  return new UnauthenticatedError(auth
    ? `the registry ${host} rejected the credentials given for ${ref}: check the username and password`
    : `the registry ${host} needs credentials for ${ref}: enter a username and password under Credentials`)
}

class Service {
  #address
  #timeoutMs
  #connecting = null
  #views = new Map()
  #pulls = new Map()
  #pulling = 0
  #importing = 0
  #streams = 0
  /** container key (namespace/id) → Set of listeners told about each task this server starts. */
  #starts = new Map()

  /**
   * `registry` and `images` are only passed on to the UI (suggestions for the pull form).
   * `allowMounts` and `allowHost`: what containers may take from the host (policy.js). `logDir`
   * must be a private directory (see logs.js); by default a new one is made.
   */
  constructor({ address, logDir, timeoutMs = 5000, registry, images = [], allowMounts, allowHost } = {}) {
    this.#address = address
    this.#timeoutMs = timeoutMs
    this.policy = createPolicy({ allowMounts, allowHost })
    this.logDir = privateLogDir(logDir)
    this.registry = registry
    this.images = Array.isArray(images) ? images : Object.values(images)
  }

  // ---------- the connection ----------

  /** The Client view of `namespace` (connects on first use; a failed connect is retried next time). */
  async client(namespace) {
    v.identifier(namespace, 'namespace')
    this.#connecting ??= Client.connect({ address: this.#address, timeoutMs: this.#timeoutMs })
      .catch((err) => { this.#connecting = null; throw err })
    const root = await this.#connecting
    let view = this.#views.get(namespace)
    if (!view) {
      if (this.#views.size >= 256) this.#views.clear()
      view = root.withNamespace(namespace)
      this.#views.set(namespace, view)
    }
    return view
  }

  async close() {
    for (const pull of this.#pulls.values()) pull.controller.abort()
    const connecting = this.#connecting
    this.#connecting = null
    if (connecting) await connecting.then((c) => c.close(), () => {})
  }

  async info() {
    const c = await this.client('default')
    const { roots, allowHost } = this.policy
    return { address: c.address, version: await c.version(), registry: this.registry ?? null, images: this.images, allowMounts: roots, allowHost }
  }

  /** open() of a streaming route, counted against MAX_STREAMS while the stream lasts. */
  #openStream(open) {
    if (this.#streams >= MAX_STREAMS) throw new ResourceExhaustedError(`${MAX_STREAMS} event streams are open already`)
    const sse = open()
    if (!sse.signal.aborted) {
      this.#streams++
      sse.signal.addEventListener('abort', () => this.#streams--, { once: true })
    }
    return sse
  }

  /** Runs `pull()` counted against MAX_PULLS. */
  async #bounded(pull) {
    if (this.#pulling >= MAX_PULLS) throw new ResourceExhaustedError(`${MAX_PULLS} pulls are in progress already`)
    this.#pulling++
    try {
      return await pull()
    } finally {
      this.#pulling--
    }
  }

  // ---------- namespaces ----------

  async listNamespaces() {
    return (await this.client('default')).listNamespaces()
  }

  async createNamespace(body) {
    const b = only(body, ['name', 'labels'])
    const name = v.identifier(b.name, 'name')
    await (await this.client('default')).createNamespace(name, v.stringMap(b.labels, 'labels') ?? {})
    return { name, labels: b.labels ?? {} }
  }

  async deleteNamespace(namespace) {
    await (await this.client(namespace)).deleteNamespace(namespace)
  }

  // ---------- networks (host-wide, not per namespace) ----------

  /** The networks containers may join ('bridge' included): { name, subnet, gateway, bridge, ipMasq, labels }. */
  async listNetworks() {
    return (await this.client('default')).listNetworks()
  }

  // ---------- images ----------

  async listImages(namespace) {
    const images = await (await this.client(namespace)).listImages()
    return Promise.all(images.map(imageJson))
  }

  #pullArguments(body) {
    const b = only(body, ['ref', 'auth'])
    return [v.imageRef(b.ref), withoutUndefined({ auth: v.auth(b.auth) })]
  }

  /** Pulls and waits: resolves with the image. */
  async pull(namespace, body) {
    const [ref, options] = this.#pullArguments(body)
    const client = await this.client(namespace)
    const image = await this.#bounded(() => client.pull(ref, options)).catch((err) => { throw registryError(err, ref, options.auth) })
    return imageJson(image)
  }

  /** Starts a pull in the background; its progress is streamed by pullEvents(id). */
  async startPull(namespace, body) {
    const [ref, options] = this.#pullArguments(body)
    const client = await this.client(namespace)
    return this.#startJob(namespace, ref, 'pull', (onProgress, signal) => client.pull(ref, { ...options, signal, onProgress })
      .then(async (image) => ({ ...await imageJson(image), platform: await platformOf(image) }))
      .catch((err) => { throw registryError(err, ref, options.auth) }))
  }

  /**
   * Pushes a stored image in the background (progress: pullEvents(id), as for a pull). The target
   * must name its registry ('host[:port]/repo[:tag]'): an image is only ever sent where the user
   * says, never to where its own name happens to point (docker.io for 'busybox').
   */
  async startPush(namespace, body) {
    const b = only(body, ['name', 'target', 'auth'])
    const name = v.imageRef(b.name, 'name')
    const target = v.pushTarget(b.target)
    const auth = v.auth(b.auth)
    const client = await this.client(namespace)
    await client.getImage(name) // 404 now rather than as an error event
    return this.#startJob(namespace, target, 'push', (onProgress, signal) => client.push(name, withoutUndefined({ target, auth, signal, onProgress }))
      .then((pushed) => ({ name, target, ...pushed }))
      .catch((err) => { throw registryError(err, target, auth) }))
  }

  /** A background job (pull or push) counted against MAX_PULLS; `run(onProgress, signal)` resolves with the `done` data. */
  async #startJob(namespace, ref, kind, run) {
    // Checked here too, so that a 429 is the answer rather than an error event later.
    if (this.#pulling >= MAX_PULLS) throw new ResourceExhaustedError(`${MAX_PULLS} pulls and pushes are in progress already`)
    if (this.#pulls.size >= MAX_KEPT_PULLS) {
      const oldest = [...this.#pulls.values()].find((p) => p.final)
      if (oldest) this.#pulls.delete(oldest.id)
    }
    const pull = {
      id: crypto.randomUUID(), kind, namespace, ref, startedAt: new Date(), progress: null, final: null,
      controller: new AbortController(), listeners: new Set(),
    }
    const emit = (event, data) => { for (const listener of pull.listeners) listener(event, data) }
    this.#pulls.set(pull.id, pull)
    this.#bounded(() => run((progress) => { pull.progress = progress; emit('progress', progress) }, pull.controller.signal))
      .then((done) => ['done', done], (err) => {
        if (err instanceof CancelledError && pull.controller.signal.aborted) return ['cancelled', { ref }]
        const { status, body } = errorResponse(err)
        return ['error', { status, ...body }]
      }).then((final) => {
        pull.final = final
        emit(...final)
        setTimeout(() => this.#pulls.delete(pull.id), PULL_RETENTION_MS).unref()
      })
    return { id: pull.id, namespace, ref, kind }
  }

  #pull(id) {
    const pull = this.#pulls.get(id)
    if (!pull) throw new NotFoundError(`no pull with id ${JSON.stringify(id)} (finished pulls are kept for 5 minutes)`)
    return pull
  }

  /** The pulls of `namespace` this server knows (running ones, and finished ones for 5 minutes), newest first. */
  async listPulls(namespace) {
    v.identifier(namespace, 'namespace')
    return [...this.#pulls.values()].filter((p) => p.namespace === namespace).reverse().map((p) => ({
      id: p.id, kind: p.kind, ref: p.ref, startedAt: p.startedAt, state: p.final ? p.final[0] : 'running',
    }))
  }

  /** Streams `progress` events (PullProgress), then `done` (the image), `cancelled` or `error` ({ status, error }). */
  async pullEvents(id, open) {
    const pull = this.#pull(id)
    const sse = this.#openStream(open)
    const listener = (event, data) => {
      sse.send(event, data)
      if (event !== 'progress') sse.end()
    }
    if (pull.progress) sse.send('progress', pull.progress)
    if (pull.final) return listener(...pull.final)
    if (sse.signal.aborted) return
    pull.listeners.add(listener)
    sse.signal.addEventListener('abort', () => pull.listeners.delete(listener))
  }

  /** Cancels a running pull (it ends `cancelled`, leaving nothing); a finished one is forgotten. */
  async cancelPull(id) {
    const pull = this.#pull(id)
    if (pull.final) this.#pulls.delete(id)
    else pull.controller.abort()
  }

  async deleteImage(namespace, name) {
    await (await this.client(namespace)).deleteImage(v.imageRef(name, 'name'))
  }

  /**
   * One archive of the named images (an OCI layout that `docker load` reads too), streamed:
   * resolves with { stream, filename } once the client has found every image (404 before any byte).
   */
  async exportImages(namespace, names) {
    const list = v.strings(Array.isArray(names) ? names : names === undefined ? undefined : [names], 'name', { optional: false, nonEmpty: true, max: 64 })
    list.forEach((n, i) => v.imageRef(n, `name[${i}]`))
    const stream = await (await this.client(namespace)).exportImages(list)
    const base = list.length === 1 ? list[0].replace(/^.*\//, '').replace(/[^\w.-]+/g, '_') : `${namespace}-images`
    return { stream, filename: `${base}.tar` }
  }

  /**
   * Imports an archive streamed as the request body (`req`, a Readable of at most IMPORT_LIMIT bytes,
   * which access.js checked against its Content-Length); the images it names are recorded in
   * `namespace`. Resolves with the images.
   */
  async importImages(namespace, req) {
    const client = await this.client(namespace)
    if (this.#importing >= MAX_IMPORTS) throw new ResourceExhaustedError(`${MAX_IMPORTS} imports are in progress already`)
    this.#importing++
    const controller = new AbortController()
    const abort = () => { if (!req.complete) controller.abort() }
    req.once('close', abort)
    try {
      const images = await client.importImages(req, { signal: controller.signal })
      return Promise.all(images.map(imageJson))
    } finally {
      req.off('close', abort)
      this.#importing--
    }
  }

  // ---------- containers ----------

  async listContainers(namespace) {
    const client = await this.client(namespace)
    const [containers, tasks] = await Promise.all([client.listContainers(), client.listTasks()])
    const byId = new Map(tasks.map((t) => [t.id, t]))
    return Promise.all(containers.map(async (c) => {
      const spec = await c.spec().catch(() => null)
      const t = byId.get(c.id)
      return {
        id: c.id,
        image: c.image,
        command: spec?.process?.args ?? null,
        labels: c.labels,
        createdAt: c.createdAt,
        network: await networkOf(c),
        task: t ? withoutUndefined({ status: t.status, pid: t.pid, exitCode: t.exitCode, exitedAt: t.exitedAt }) : null,
      }
    }))
  }

  /** Validates (400), then checks against the server's policy (403, policy.js). */
  async createContainer(namespace, body) {
    const b = only(body, ['id', ...Object.keys(CONTAINER_FIELDS)])
    const id = v.identifier(b.id, 'id')
    const { network, ...fields } = withoutUndefined(Object.fromEntries(
      Object.entries(CONTAINER_FIELDS).map(([field, check]) => [field, check(b[field])])))
    if (network === 'host') fields.hostNetwork = true
    else if (network !== undefined) fields.network = network
    const options = checkContainer(fields, this.policy)
    const client = await this.client(namespace)
    // Its tasks' output goes to the library's logger (stdio 'log'), readable after this server
    // restarts. The logger runs on the daemon's host: over tcp:// the tasks write to a log file.
    if (isLocal(client.address)) options.log = true
    const container = await client.createContainer(id, options)
    return { id: container.id, image: container.image, labels: container.labels, createdAt: container.createdAt, network: await networkOf(container) }
  }

  /** Deletes a container and its stopped task; a live task is a 409 (kill it first). */
  async deleteContainer(namespace, id) {
    const container = await this.#container(namespace, id)
    const task = await container.task().catch((err) => { if (err instanceof NotFoundError) return null; throw err })
    if (task) {
      const { status } = await task.status()
      if (status !== 'stopped') throw new FailedPreconditionError(`container ${id} has a ${status} task: kill it first`)
      await task.delete()
    }
    await container.delete()
    fs.rm(logPath(this.logDir, namespace, id), { force: true }, () => {})
  }

  /** Commits the container's filesystem (its running task paused meanwhile) to a new image `name`. */
  async commit(namespace, id, body) {
    const b = only(body, ['name', 'message'])
    const name = v.imageRef(b.name, 'name')
    const message = v.string(b.message, 'message', { max: 1024, optional: true })
    const container = await this.#container(namespace, id)
    return imageJson(await container.commit(name, withoutUndefined({ message })))
  }

  async #container(namespace, id) {
    return (await this.client(namespace)).getContainer(v.identifier(id, 'container id'))
  }

  async #task(namespace, id) {
    return (await this.#container(namespace, id)).task()
  }

  // ---------- tasks ----------

  /** Starts a new task whose output goes to the container's log file (a stopped one is replaced). */
  async startTask(namespace, id) {
    const container = await this.#container(namespace, id)
    const old = await container.task().catch((err) => { if (err instanceof NotFoundError) return null; throw err })
    if (old) {
      const { status } = await old.status()
      if (status !== 'stopped') throw new FailedPreconditionError(`container ${id} already has a ${status} task`)
      await old.delete()
    }
    const logged = hasLog(container)
    const task = await container.newTask(logged ? {} : { logFile: logPath(this.logDir, namespace, container.id) })
    try {
      // Noted before it starts, so every line of this task comes after the note.
      const at = Date.now()
      await container.setLabels({ [STARTS_LABEL]: [...startsOf(container), at].slice(-MAX_STARTS).join(' ') })
      for (const listener of this.#starts.get(`${namespace}/${container.id}`) ?? []) listener(at)
      await task.start()
    } catch (err) {
      await task.delete().catch(() => {})
      throw err
    }
    return { status: 'running', pid: task.pid }
  }

  /** SIGTERM, then SIGKILL if the task is still running after `timeoutMs` (default 10 s); resolves with its exit. */
  async stopTask(namespace, id, body) {
    const b = only(body, ['timeoutMs'])
    const timeoutMs = b.timeoutMs === undefined ? STOP_TIMEOUT_MS : b.timeoutMs
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 300000) {
      throw new InvalidArgumentError(`timeoutMs must be an integer from 0 to 300000, got ${JSON.stringify(b.timeoutMs)}`)
    }
    // A stop from the UI is for good, like `docker stop`: a restart policy would bring it back.
    const container = await this.#container(namespace, id)
    const policy = container.labels['containerd-napi/restart']
    if (policy && policy !== 'no') await container.update({ restart: 'no' })
    const task = await this.#task(namespace, id)
    const exited = task.wait()
    exited.catch(() => {})
    await task.kill('SIGTERM')
    const killed = await Promise.race([exited.then(() => false), new Promise((resolve) => setTimeout(resolve, timeoutMs, true))])
    if (killed) await task.kill('SIGKILL')
    const { exitCode } = await exited
    return { exitCode, killed }
  }

  async killTask(namespace, id, body) {
    const b = only(body, ['signal', 'all'])
    const signal = v.signal(b.signal)
    const all = v.boolean(b.all, 'all')
    await (await this.#task(namespace, id)).kill(signal, withoutUndefined({ all }))
  }

  async pauseTask(namespace, id) {
    await (await this.#task(namespace, id)).pause()
  }

  async resumeTask(namespace, id) {
    await (await this.#task(namespace, id)).resume()
  }

  /** New cgroup limits for the running task: { memoryLimitBytes } (a stopped one: 409). */
  async updateTask(namespace, id, body) {
    const b = only(body, ['memoryLimitBytes'])
    const memoryLimitBytes = v.memoryLimit(b.memoryLimitBytes)
    await (await this.#task(namespace, id)).update({ memoryLimitBytes })
    return { memoryLimitBytes }
  }

  /** A live task is a 409 (FailedPrecondition from the daemon). */
  async deleteTask(namespace, id) {
    return (await this.#task(namespace, id)).delete()
  }

  /** Runs a command in the running task; resolves with its exit code and output (1 MiB each). */
  async exec(namespace, id, body) {
    const b = only(body, ['args', 'env', 'cwd', 'user'])
    const options = withoutUndefined({
      args: v.strings(b.args, 'args', { optional: false, nonEmpty: true }),
      env: v.env(b.env),
      cwd: v.string(b.cwd, 'cwd', { optional: true }),
      user: v.string(b.user, 'user', { max: 256, optional: true }),
    })
    const task = await this.#task(namespace, id)
    const proc = await task.exec(`exec-${crypto.randomBytes(6).toString('hex')}`, options)
    const output = Promise.all([collect(proc.stdout), collect(proc.stderr)])
    try {
      await proc.start()
      let exit
      try {
        exit = await proc.wait({ signal: AbortSignal.timeout(EXEC_TIMEOUT_MS) })
      } catch (err) {
        if (!(err instanceof CancelledError)) throw err
        await proc.kill('SIGKILL').catch(() => {})
        throw new DeadlineExceededError(`exec did not finish within ${EXEC_TIMEOUT_MS / 1000} s and was killed`)
      }
      const [stdout, stderr] = await output
      return { exitCode: exit.exitCode, stdout: stdout.text, stderr: stderr.text, truncated: stdout.truncated || stderr.truncated }
    } finally {
      proc.stdout?.destroy()
      proc.stderr?.destroy()
      await proc.delete().catch(() => {})
    }
  }

  // ---------- streams ----------

  /**
   * Streams the container's log. A container made with `log` (every one this server creates on a
   * local daemon): its last 200 records, then new ones across task restarts, from the library's
   * `logs({ follow, tail })` (so a restarted server reads them again), as `log` events
   * { time, stream, line }, with a `task` event { time } before the first record of each task this
   * server started; the stream ends when the container is deleted. Event ids are
   * `<ms>.<n>` (the n-th record of that millisecond), so a reconnecting EventSource continues
   * where it was. Other containers: their log file, as `log` events of text (event id: the file
   * offset).
   */
  async logs(namespace, id, lastEventId, open) {
    const container = await this.#container(namespace, id)
    if (!hasLog(container)) {
      const from = /^\d{1,15}$/.test(lastEventId ?? '') ? Number(lastEventId) : undefined
      const file = logPath(this.logDir, namespace, container.id)
      ensureFile(file)
      const sse = this.#openStream(open)
      follow(file, { signal: sse.signal, from, send: (text, offset) => sse.send('log', text, offset) })
      return
    }
    const resume = /^(\d{1,15})\.(\d{1,6})$/.exec(lastEventId ?? '')
    const sse = this.#openStream(open)
    if (sse.signal.aborted) return
    const starts = startsOf(container)
    const key = `${namespace}/${container.id}`
    const listener = (at) => starts.push(at)
    if (!this.#starts.has(key)) this.#starts.set(key, new Set())
    this.#starts.get(key).add(listener)
    const records = container.logs(resume
      ? { follow: true, since: Number(resume[1]), signal: sse.signal }
      : { follow: true, tail: LOG_TAIL, signal: sse.signal })
    ;(async () => {
      let skip = resume ? Number(resume[2]) : 0 // records of that millisecond already sent
      let last = { ms: -1, n: 0 }
      let lastStart = resume ? Number(resume[1]) : -1
      try {
        for await (const r of records) {
          const ms = r.time.getTime()
          if (skip > 0 && resume && ms === Number(resume[1])) { skip--; last = { ms, n: last.ms === ms ? last.n + 1 : 1 }; continue }
          skip = 0
          const start = starts.filter((t) => t <= ms && t > lastStart).at(-1)
          if (start !== undefined) {
            lastStart = start
            await sse.send('task', { time: new Date(start) })
          }
          last = { ms, n: last.ms === ms ? last.n + 1 : 1 }
          const record = { time: r.time, stream: r.stream, line: r.line }
          if (r.dropped !== undefined) record.dropped = r.dropped
          await sse.send('log', record, `${ms}.${last.n}`)
        }
      } catch (err) {
        if (!sse.signal.aborted && !(err instanceof CancelledError)) await sse.send('error', errorResponse(err).body.error)
      } finally {
        const listeners = this.#starts.get(key)
        listeners?.delete(listener)
        if (listeners?.size === 0) this.#starts.delete(key)
        sse.end()
      }
    })()
  }

  /**
   * Streams the task's `stats` (TaskStats, a sample a second) until it exits (then `end`) or the
   * client goes away; counted against MAX_STREAMS like every stream.
   */
  async stats(namespace, id, open) {
    const task = await this.#task(namespace, id)
    const sse = this.#openStream(open)
    if (sse.signal.aborted) return
    ;(async () => {
      try {
        for await (const s of task.stats({ intervalMs: STATS_INTERVAL_MS, signal: sse.signal })) await sse.send('stats', s)
        await sse.send('end', {})
      } catch (err) {
        if (!sse.signal.aborted && !(err instanceof CancelledError)) await sse.send('error', errorResponse(err).body.error)
      } finally {
        sse.end()
      }
    })()
  }

  /** Streams the namespace's containerd events (one subscription per connection). */
  async events(namespace, open) {
    const client = await this.client(namespace)
    const stream = client.subscribe()
    try {
      await stream.ready
    } catch (err) {
      stream.close()
      throw err
    }
    let sse
    try {
      sse = this.#openStream(open)
    } catch (err) {
      stream.close()
      throw err
    }
    if (sse.signal.aborted) return stream.close()
    sse.signal.addEventListener('abort', () => stream.close())
    sse.send('ready', { namespace })
    ;(async () => {
      try {
        for await (const event of stream) await sse.send('event', event)
      } catch (err) {
        if (!sse.signal.aborted) await sse.send('error', errorResponse(err).body.error)
      } finally {
        sse.end()
      }
    })()
  }
}

module.exports = { Service }
