'use strict'
// Small statistics and formatting helpers for the benchmark tables.

/** Nearest-rank percentile (p in 0..100) of `values`; NaN for none. */
function percentile(values, p) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

const median = (values) => {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length

/** { n, median, p99, mean, min, max } of samples. */
function summary(values) {
  return {
    n: values.length,
    median: median(values),
    p99: percentile(values, 99),
    mean: mean(values),
    min: Math.min(...values),
    max: Math.max(...values),
  }
}

/** A number with about three significant digits (no exponent). */
function num(x, digits = 3) {
  if (x == null || Number.isNaN(x)) return '—'
  if (!Number.isFinite(x)) return '∞'
  const abs = Math.abs(x)
  if (abs >= 10 ** digits) return Math.round(x).toLocaleString('en-US')
  if (abs === 0) return '0'
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)))
  return x.toFixed(Math.min(decimals, 4))
}

/** "2.31x" for a ratio. */
const ratio = (x) => (x == null || Number.isNaN(x) ? '—' : `${num(x)}x`)

/** A markdown table of `rows` (arrays of cells) under `head`. */
function markdownTable(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n')
}

module.exports = { percentile, median, mean, summary, num, ratio, markdownTable }
