'use strict'
// Running programs (argument arrays, never a shell) and measuring CPU time, including the CPU
// time of children this process has waited for (/proc/self/stat cutime + cstime).

const { execFile } = require('node:child_process')
const fs = require('node:fs')

const CLOCK_TICKS = 100 // USER_HZ on Linux/x86_64 (sysconf(_SC_CLK_TCK))

// Children still running, so that an interrupted bench can end them (see killChildren).
const live = new Set()

/** Resolves { stdout, stderr }; rejects with the output attached on a non-zero exit. */
function run(program, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 300000, ...options }, (err, stdout, stderr) => {
      live.delete(child)
      if (err) {
        err.message = `${program} ${args.join(' ')}: ${err.message}\n${stderr}`.trim()
        err.stdout = stdout
        err.stderr = stderr
        reject(err)
      } else {
        resolve({ stdout, stderr })
      }
    })
    live.add(child)
  })
}

/** SIGKILLs every child started by run() that has not exited yet. */
function killChildren() {
  for (const child of live) {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
  live.clear()
}

/** CPU microseconds of this process so far (user + system, all threads). */
function selfCpuUs() {
  const u = process.cpuUsage()
  return u.user + u.system
}

/** CPU microseconds of reaped children so far. */
function childrenCpuUs() {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8')
  // Fields after the command name (which is in parentheses and may hold spaces).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // cutime and cstime are fields 16 and 17 (1-based) of the whole line, i.e. 13 and 14 here.
  return ((Number(fields[13]) + Number(fields[14])) * 1e6) / CLOCK_TICKS
}

/** A CPU meter: stop() returns { self, children, total } microseconds since start. */
function cpuMeter() {
  const s0 = selfCpuUs()
  const c0 = childrenCpuUs()
  return {
    stop() {
      const self = selfCpuUs() - s0
      const children = childrenCpuUs() - c0
      return { self, children, total: self + children }
    },
  }
}

/** Runs `tasks` (functions returning promises) with at most `limit` in flight; resolves all results. */
async function pool(tasks, limit) {
  const results = new Array(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await tasks[i]()
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return results
}

module.exports = { run, killChildren, cpuMeter, selfCpuUs, childrenCpuUs, pool }
