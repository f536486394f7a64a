//! Signal names and numbers (Linux), so `kill('SIGTERM')`, `kill('term')` and `kill(15)` agree.

use super::error::{Error, Result};

const NAMES: &[(&str, u32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];
const RTMIN: u32 = 34;
const RTMAX: u32 = 64;

/// A signal by name (`SIGTERM`, `TERM`, `sigterm`, `SIGRTMIN+3`) or number (`15`).
pub fn parse(signal: &str) -> Result<u32> {
    let bad = || Error::invalid_argument(format!("unknown signal {signal:?}"));
    if let Ok(n) = signal.parse::<u32>() {
        return number(n);
    }
    let upper = signal.trim().to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, n)) = NAMES.iter().find(|(known, _)| *known == name) {
        return Ok(n);
    }
    let realtime = |base: u32, rest: &str, sign: i64| -> Option<u32> {
        let offset: i64 = if rest.is_empty() { 0 } else { rest.parse().ok()? };
        u32::try_from(i64::from(base) + sign * offset).ok().filter(|n| (RTMIN..=RTMAX).contains(n))
    };
    let rt = if let Some(rest) = name.strip_prefix("RTMIN") {
        realtime(RTMIN, rest.strip_prefix('+').unwrap_or(rest), 1)
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        realtime(RTMAX, rest.strip_prefix('-').unwrap_or(rest), -1)
    } else {
        None
    };
    rt.ok_or_else(bad)
}

/// A signal number, checked to be one Linux has.
pub fn number(n: u32) -> Result<u32> {
    if (1..=RTMAX).contains(&n) {
        Ok(n)
    } else {
        Err(Error::invalid_argument(format!("signal number {n} is out of range (1-{RTMAX})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse("SIGTERM").unwrap(), 15);
        assert_eq!(parse("term").unwrap(), 15);
        assert_eq!(parse("SIGKILL").unwrap(), 9);
        assert_eq!(parse("9").unwrap(), 9);
        assert_eq!(parse("SIGRTMIN").unwrap(), 34);
        assert_eq!(parse("SIGRTMIN+3").unwrap(), 37);
        assert_eq!(parse("SIGRTMAX-1").unwrap(), 63);
        for bad in ["", "SIGNOPE", "0", "65", "SIGRTMIN+40", "-1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
