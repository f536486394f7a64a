'use strict'
// The public Container (README.md): record data plus methods over the native client.

const { call } = require('./native.js')
const check = require('./check.js')
const { InvalidArgumentError, NotFoundError } = require('./errors.js')
const { Task } = require('./process.js')

// node:fs/path and the LogStream only for containers with logs.
const logs = () => require('./logs.js')

class Container {
  #native

  /** @internal */
  constructor(native, info) {
    this.#native = native
    this.id = info.id
    this.image = info.image
    this.labels = info.labels
    this.snapshotter = info.snapshotter
    this.snapshotKey = info.snapshotKey
    this.runtime = info.runtime
    this.createdAt = new Date(info.createdAt)
    this.updatedAt = new Date(info.updatedAt)
  }

  /** The OCI runtime spec, as JSON. */
  async spec(options) {
    const { signal } = check.signalOnly(options)
    return JSON.parse(await call('container spec', signal, (h) => this.#native.containerSpec(this.id, h)))
  }

  /** Merges `labels` into the container's; a null value removes that key. */
  async setLabels(labels, options) {
    check.optionalObject(labels, 'labels')
    for (const [k, v] of Object.entries(labels)) {
      if (v !== null && typeof v !== 'string') throw new InvalidArgumentError(`labels[${JSON.stringify(k)}] must be a string or null`)
    }
    const { signal } = check.signalOnly(options)
    const info = await call('set labels', signal, (h) => this.#native.setContainerLabels(this.id, labels, h))
    return new Container(this.#native, info)
  }

  /**
   * Changes the restart policy ('no', 'always', 'unless-stopped', 'on-failure[:N]') and merges
   * labels (null removes one); returns the updated Container.
   */
  async update(changes, options) {
    const o = check.known(check.optionalObject(changes, 'changes'), 'changes', ['restart', 'labels'])
    const restart = check.optionalString(o.restart, 'changes.restart') // its values are the core's to check
    const labels = o.labels === undefined ? undefined : check.optionalObject(o.labels, 'changes.labels')
    for (const [k, v] of Object.entries(labels ?? {})) {
      if (v !== null && typeof v !== 'string') throw new InvalidArgumentError(`changes.labels[${JSON.stringify(k)}] must be a string or null`)
    }
    const { signal } = check.signalOnly(options)
    const info = await call('update container', signal, (h) => this.#native.updateContainer(this.id, restart, labels, h))
    return new Container(this.#native, info)
  }

  /** The container's network (name, IP, gateway, published ports), or null for none/host. */
  async network(options) {
    const { signal } = check.signalOnly(options)
    return (await call('container network', signal, (h) => this.#native.containerNetwork(this.id, h))) ?? null
  }

  async newTask(options) {
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['stdio', 'logFile', 'stdin', 'signal'])
    // Its values are the core's to check; unset: 'log' for a container made with `log`, else 'pipe'.
    const stdio = check.optionalString(o.stdio, 'options.stdio')
    const logFile = check.optionalString(o.logFile, 'options.logFile')
    const stdin = check.optionalBoolean(o.stdin, 'options.stdin')
    const io = await call('new task', o.signal, (h) => this.#native.newTask(this.id, stdio, stdin, logFile, h))
    return new Task(this.#native, this.id, io)
  }

  /** The existing task, without stdio (NotFoundError if there is none). */
  async task(options) {
    const { signal } = check.signalOnly(options)
    const state = await call('get task', signal, (h) => this.#native.taskState(this.id, '', h))
    return new Task(this.#native, this.id, { pid: state.pid })
  }

  /**
   * The container's log (a container made with `log`): an async iterable of
   * { time: Date, stream, line }; NotFoundError on the first next() for a container without one.
   */
  logs(options) {
    return logs().openLogs(this.#native, this.id, options)
  }

  /**
   * The container's filesystem changes as one new layer on its image: a new image `name` (the
   * task, if running, is paused while the diff is taken unless `pause: false`).
   */
  async commit(name, options) {
    check.string(name, 'name')
    const o = check.known(check.optionalObject(options, 'options'), 'options',
      ['pause', 'config', 'message', 'author', 'signal'])
    const native = {
      pause: check.optionalBoolean(o.pause, 'options.pause'),
      config: o.config === undefined ? undefined : JSON.stringify(check.optionalObject(o.config, 'options.config')),
      message: check.optionalString(o.message, 'options.message'),
      author: check.optionalString(o.author, 'options.author'),
    }
    const info = await call('commit', o.signal, (h) => this.#native.commitContainer(this.id, name, native, h))
    return new (require('./image.js').Image)(this.#native, info)
  }

  /** Deletes the container and (unless `snapshot: false`) its snapshot. */
  async delete(options) {
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['snapshot', 'signal'])
    const snapshot = check.optionalBoolean(o.snapshot, 'options.snapshot') ?? true
    await call('delete container', o.signal, (h) => this.#native.deleteContainer(this.id, snapshot, h))
  }

  /** Kills and deletes its task if any, then deletes the container. */
  async [Symbol.asyncDispose]() {
    try {
      await (await this.task())[Symbol.asyncDispose]()
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
    }
    try {
      await this.delete()
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
    }
  }
}

/** the README's ContainerOptions → the native shape (validated types; values are checked in Rust). */
function containerOptions(options) {
  const o = check.optionalObject(options, 'options')
  const image = typeof o.image === 'object' && o.image !== null && typeof o.image.name === 'string' ? o.image.name : o.image
  check.string(image, 'options.image')
  const caps = o.capabilities === undefined ? {} : check.known(check.optionalObject(o.capabilities, 'options.capabilities'), 'options.capabilities', ['add', 'drop'])
  const mounts = o.mounts === undefined ? undefined : o.mounts
  if (mounts !== undefined && !Array.isArray(mounts)) throw new InvalidArgumentError('options.mounts must be an array')
  const native = {
    image,
    args: check.optionalStrings(o.args, 'options.args'),
    env: check.envList(o.env, 'options.env'),
    cwd: check.optionalString(o.cwd, 'options.cwd'),
    user: check.optionalString(o.user, 'options.user'),
    hostname: check.optionalString(o.hostname, 'options.hostname'),
    tty: check.optionalBoolean(o.tty, 'options.tty'),
    hostNetwork: check.optionalBoolean(o.hostNetwork, 'options.hostNetwork'),
    network: check.optionalString(o.network, 'options.network'),
    ports: portList(o.ports),
    dns: check.optionalStrings(o.dns, 'options.dns'),
    extraHosts: o.extraHosts === undefined ? undefined : check.stringRecord(o.extraHosts, 'options.extraHosts'),
    mounts: mounts?.map((m, i) => {
      check.known(check.optionalObject(m, `options.mounts[${i}]`), `options.mounts[${i}]`, ['type', 'source', 'destination', 'options'])
      return {
        type: check.optionalString(m.type, `options.mounts[${i}].type`),
        source: check.optionalString(m.source, `options.mounts[${i}].source`), // defaults are the core's
        destination: check.string(m.destination, `options.mounts[${i}].destination`),
        options: check.optionalStrings(m.options, `options.mounts[${i}].options`),
      }
    }),
    readonlyRootfs: check.optionalBoolean(o.readonlyRootfs, 'options.readonlyRootfs'),
    memoryLimitBytes: check.optionalNumber(o.memoryLimitBytes, 'options.memoryLimitBytes'),
    cpus: check.optionalNumber(o.cpus, 'options.cpus'),
    privileged: check.optionalBoolean(o.privileged, 'options.privileged'),
    capAdd: check.optionalStrings(caps.add, 'options.capabilities.add'),
    capDrop: check.optionalStrings(caps.drop, 'options.capabilities.drop'),
    labels: check.stringRecord(o.labels, 'options.labels'),
    annotations: check.stringRecord(o.annotations, 'options.annotations'),
    snapshotter: check.optionalString(o.snapshotter, 'options.snapshotter'),
    runtime: check.optionalString(o.runtime, 'options.runtime'),
    log: o.log === undefined ? undefined : logs().logOption(o.log),
    restart: check.optionalString(o.restart, 'options.restart'),
    ...hardening(o),
  }
  // Every option has a field of the same name in the native shape, but for these.
  const names = Object.keys(native).filter((k) => k !== 'capAdd' && k !== 'capDrop' && k !== 'seccompProfile')
  check.known(o, 'options', [...names, 'capabilities', 'signal'])
  return native
}

/** seccomp, noNewPrivileges, pidsLimit, ulimits, sysctls, specPatch (values are checked in Rust). */
function hardening(o) {
  // A profile object crosses as JSON (seccompProfile); a name as seccomp.
  const profile = o.seccomp !== undefined && typeof o.seccomp !== 'string'
  const out = {
    seccomp: profile ? undefined : o.seccomp,
    seccompProfile: profile ? JSON.stringify(check.optionalObject(o.seccomp, 'options.seccomp')) : undefined,
    noNewPrivileges: check.optionalBoolean(o.noNewPrivileges, 'options.noNewPrivileges'),
    pidsLimit: check.optionalNumber(o.pidsLimit, 'options.pidsLimit'),
    ulimits: undefined,
    sysctls: check.stringRecord(o.sysctls, 'options.sysctls'),
    specPatch: o.specPatch === undefined ? undefined : JSON.stringify(check.optionalObject(o.specPatch, 'options.specPatch')),
  }
  if (o.ulimits !== undefined) {
    if (!Array.isArray(o.ulimits)) throw new InvalidArgumentError('options.ulimits must be an array of { name, soft, hard? }')
    out.ulimits = o.ulimits.map((u, i) => {
      check.known(check.optionalObject(u, `options.ulimits[${i}]`), `options.ulimits[${i}]`, ['name', 'soft', 'hard'])
      const soft = check.optionalNumber(u.soft, `options.ulimits[${i}].soft`)
      if (soft === undefined) throw new InvalidArgumentError(`options.ulimits[${i}].soft must be a number`)
      return { name: check.string(u.name, `options.ulimits[${i}].name`), soft, hard: check.optionalNumber(u.hard, `options.ulimits[${i}].hard`) ?? soft }
    })
  }
  return out
}

/** Ports as strings or { hostPort, containerPort, protocol?, hostIp? } (values are checked in Rust). */
function portList(ports) {
  if (ports === undefined) return undefined
  if (!Array.isArray(ports)) throw new InvalidArgumentError('options.ports must be an array')
  return ports.map((p, i) => {
    if (typeof p === 'string') return p
    const o = check.known(check.optionalObject(p, `options.ports[${i}]`), `options.ports[${i}]`, ['hostPort', 'containerPort', 'protocol', 'hostIp'])
    return {
      hostPort: check.optionalNumber(o.hostPort, `options.ports[${i}].hostPort`) ?? 0,
      containerPort: check.optionalNumber(o.containerPort, `options.ports[${i}].containerPort`) ?? 0,
      protocol: check.optionalString(o.protocol, `options.ports[${i}].protocol`),
      hostIp: check.optionalString(o.hostIp, `options.ports[${i}].hostIp`),
    }
  })
}

module.exports = { Container, containerOptions }
