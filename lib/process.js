'use strict'
// The public Process and Task (README.md). `Task extends Process` here, in JS, because napi-rs
// classes cannot inherit; both are handles over the native client plus (container id, exec id).

const { call } = require('./native.js')
const check = require('./check.js')
const { InvalidArgumentError, NotFoundError } = require('./errors.js')
const { PullStream } = require('./pull-stream.js')

const exitStatus = (e) => ({ exitCode: e.exitCode, exitedAt: new Date(e.exitedAt) })

// node:net costs ~2 ms to load: only processes with piped stdio need it.
let net
function socket(fd, readable) {
  if (fd == null) return null
  if (process.versions.bun) return bunStream(fd, readable)
  net ??= require('node:net')
  return new net.Socket({ fd, readable, writable: !readable })
}

/**
 * Bun's net.Socket takes `{ fd }` but drops it (oven-sh/bun#29141): a FIFO read through it
 * delivers nothing and writes fail with EAGAIN. Bun's own file streams poll pipes properly, so
 * there the FIFOs become Node streams over Bun.file(fd): a ReadableStream for output, a FileSink
 * (whose write/flush promises carry backpressure) for stdin.
 */
function bunStream(fd, readable) {
  const { Readable, Writable } = require('node:stream')
  const fs = require('node:fs')
  // Bun.file(fd) never closes a descriptor it did not open: ours are closed here, once.
  let open = true
  const close = () => {
    if (open) { open = false; fs.close(fd, () => {}) }
  }
  const file = globalThis.Bun.file(fd)
  if (readable) {
    const stream = Readable.fromWeb(file.stream())
    stream.once('close', close)
    return stream
  }
  const sink = file.writer()
  return new Writable({
    write(chunk, _encoding, callback) {
      Promise.resolve(sink.write(chunk)).then(() => sink.flush()).then(() => callback(), callback)
    },
    final(callback) {
      // Our end must be closed for the process to see EOF (after CloseIO).
      Promise.resolve(sink.end()).then(() => { close(); callback() }, callback)
    },
    destroy(err, callback) {
      try { sink.end() } catch { /* already ended */ }
      close()
      callback(err)
    },
  })
}

/** A signal name ('SIGTERM', 'term', 'SIGRTMIN+1') or number, as the native layer takes it. */
function signalText(signal, fallback) {
  if (signal === undefined) return fallback
  if (typeof signal === 'number' && Number.isInteger(signal)) return String(signal)
  if (typeof signal === 'string' && signal.length > 0) return signal
  throw new InvalidArgumentError(`signal must be a name like 'SIGTERM' or a number, got ${JSON.stringify(signal)}`)
}

class Process {
  #native
  #containerId
  #execId

  /**
   * @internal
   * `io`: the pid and, for piped stdio, non-blocking FIFO descriptors from the native layer;
   * Node polls them on its event loop (net.Socket over a pipe), not on the libuv thread pool.
   */
  constructor(native, containerId, execId, io) {
    this.#native = native
    this.#containerId = containerId
    this.#execId = execId
    this.id = execId || containerId
    this.pid = io.pid
    this.stdin = socket(io.stdin, false)
    // The shim keeps a writer of its own on the stdin FIFO: ending ours is not EOF for the
    // process until CloseIO, so ending the stream sends it.
    this.stdin?.once('finish', () => { this.#closeIo().catch(() => {}) })
    this.stdout = socket(io.stdout, true)
    this.stderr = socket(io.stderr, true)
  }

  /** @internal */
  get _native() { return this.#native }
  /** @internal */
  get _containerId() { return this.#containerId }

  async start(options) {
    const { signal } = check.signalOnly(options)
    this.pid = await call('start', signal, (h) => this.#native.startProcess(this.#containerId, this.#execId, h))
  }

  /** Resolves with the exit status whenever it is called, before or after the exit. */
  async wait(options) {
    const { signal } = check.signalOnly(options)
    return exitStatus(await call('wait', signal, (h) => this.#native.waitProcess(this.#containerId, this.#execId, h)))
  }

  async kill(signal, options) {
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['all', 'signal'])
    const all = check.optionalBoolean(o.all, 'options.all') ?? false
    const text = signalText(signal, 'SIGTERM')
    await call('kill', o.signal, (h) => this.#native.killProcess(this.#containerId, this.#execId, text, all, h))
  }

  async resize(cols, rows, options) {
    // Only the type here: the range (1 to 65535) is the core's rule.
    for (const [v, n] of [[cols, 'cols'], [rows, 'rows']]) if (typeof v !== 'number') throw new InvalidArgumentError(`${n} must be a number`)
    const { signal } = check.signalOnly(options)
    await call('resize', signal, (h) => this.#native.resizePty(this.#containerId, this.#execId, cols, rows, h))
  }

  #stdinClosed
  #closeIo(signal) {
    this.#stdinClosed ??= call('close stdin', signal, (h) => this.#native.closeStdin(this.#containerId, this.#execId, h))
    return this.#stdinClosed
  }

  /** Ends our stdin stream (if piped) and has the shim close the process's stdin. */
  async closeStdin(options) {
    const { signal } = check.signalOnly(options)
    if (this.stdin && !this.stdin.writableFinished) await new Promise((resolve) => this.stdin.end(resolve))
    await this.#closeIo(signal)
  }

  async delete(options) {
    const { signal } = check.signalOnly(options)
    const status = await call('delete', signal, (h) => this.#execId
      ? this.#native.deleteProcess(this.#containerId, this.#execId, h)
      : this.#native.deleteTask(this.#containerId, h))
    return exitStatus(status)
  }

  /**
   * `await using`: SIGKILL if it runs, wait, delete (an exec process that was never started is
   * only deleted); a process that is already gone is fine. Task overrides it for the whole task.
   */
  async [Symbol.asyncDispose]() {
    let state
    try {
      state = await call('status', undefined, (h) => this.#native.taskState(this.#containerId, this.#execId, h))
    } catch (err) {
      if (err instanceof NotFoundError) return
      throw err
    }
    if (state.status === 'running') {
      await this.kill('SIGKILL').catch((err) => { if (!(err instanceof NotFoundError)) throw err })
      await this.wait()
    }
    await this.delete().catch((err) => { if (!(err instanceof NotFoundError)) throw err })
  }
}

class Task extends Process {
  /** @internal */
  constructor(native, containerId, io) {
    super(native, containerId, '', io)
  }

  /** Adds a process to the running task; start() runs it. Duplicate ids are AlreadyExistsError. */
  async exec(execId, options) {
    check.string(execId, 'execId')
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['args', 'env', 'cwd', 'user', 'tty', 'stdio', 'stdin', 'signal'])
    const native = {
      args: check.optionalStrings(o.args, 'options.args') ?? [],
      env: check.envList(o.env, 'options.env'),
      cwd: check.optionalString(o.cwd, 'options.cwd'),
      user: check.optionalString(o.user, 'options.user'),
      tty: check.optionalBoolean(o.tty, 'options.tty'),
      stdio: check.optionalString(o.stdio, 'options.stdio'), // its values are the core's to check
      stdin: check.optionalBoolean(o.stdin, 'options.stdin'),
    }
    const io = await call('exec', o.signal, (h) => this._native.execProcess(this._containerId, execId, native, h))
    return new Process(this._native, this._containerId, execId, io)
  }

  async status(options) {
    const { signal } = check.signalOnly(options)
    const s = await call('status', signal, (h) => this._native.taskState(this._containerId, '', h))
    return s.exitCode === undefined || s.exitCode === null ? { status: s.status } : { status: s.status, exitCode: s.exitCode }
  }

  async pause(options) {
    const { signal } = check.signalOnly(options)
    await call('pause', signal, (h) => this._native.pauseTask(this._containerId, h))
  }

  async resume(options) {
    const { signal } = check.signalOnly(options)
    await call('resume', signal, (h) => this._native.resumeTask(this._containerId, h))
  }

  async pids(options) {
    const { signal } = check.signalOnly(options)
    return call('pids', signal, (h) => this._native.taskPids(this._containerId, h))
  }

  async metrics(options) {
    const { signal } = check.signalOnly(options)
    const m = await call('metrics', signal, (h) => this._native.taskMetrics(this._containerId, h))
    const out = { raw: JSON.parse(m.raw) }
    for (const key of ['memoryBytes', 'cpuUsageNanos', 'pids']) if (m[key] != null) out[key] = m[key]
    return out
  }

  /** New cgroup limits for the running task: { memoryLimitBytes, cpus, pidsLimit } (values are checked in Rust). */
  async update(resources, options) {
    const o = check.known(check.optionalObject(resources, 'resources'), 'resources', ['memoryLimitBytes', 'cpus', 'pidsLimit'])
    const native = {
      memoryLimitBytes: check.optionalNumber(o.memoryLimitBytes, 'resources.memoryLimitBytes'),
      cpus: check.optionalNumber(o.cpus, 'resources.cpus'),
      pidsLimit: check.optionalNumber(o.pidsLimit, 'resources.pidsLimit'),
    }
    const { signal } = check.signalOnly(options)
    await call('update', signal, (h) => this._native.updateTask(this._containerId, native, h))
  }

  /**
   * An async iterable of TaskStats, one every `intervalMs` (default 1000); ends when the task
   * exits; an aborted `signal` ends it with a CancelledError.
   */
  stats(options) {
    const o = check.known(check.optionalObject(options, 'options'), 'options', ['intervalMs', 'signal'])
    const intervalMs = check.optionalNumber(o.intervalMs, 'options.intervalMs')
    return new StatsStream((h) => this._native.openStats(this._containerId, intervalMs, h), o.signal)
  }

  /** SIGKILL if running, wait, delete; a task that is already gone is fine. */
  async [Symbol.asyncDispose]() {
    // First: a restart policy would bring the task back between the kill and the delete.
    await call('dispose', undefined, (h) => this._native.holdRestarts(this._containerId, h))
    let state
    try {
      state = await this.status()
    } catch (err) {
      if (err instanceof NotFoundError) return
      throw err
    }
    if (state.status !== 'stopped') {
      if (state.status === 'paused' || state.status === 'pausing') await this.resume().catch(() => {})
      await this.kill('SIGKILL', { all: true }).catch((err) => { if (!(err instanceof NotFoundError)) throw err })
      await this.wait()
    }
    await this.delete()
  }
}

/** Task.stats(): opened on the first next(). */
class StatsStream extends PullStream {
  constructor(open, signal) {
    super('stats', open, signal)
  }

  async next() {
    const s = await this.pull()
    if (s == null) return { done: true, value: undefined }
    const value = { time: new Date(s.time), cpuPercent: s.cpuPercent, memoryBytes: s.memoryBytes, pids: s.pids }
    for (const key of ['memoryLimitBytes', 'netRxBytes', 'netTxBytes']) if (s[key] != null) value[key] = s[key]
    return { done: false, value }
  }
}

module.exports = { Process, Task, StatsStream, exitStatus }
