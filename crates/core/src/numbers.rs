//! Numbers as JS passes them (f64): the one check that a value is an integer in a range.

use super::error::{Error, Result};

/// `n` as an integer from `min` to `max`, else an InvalidArgument that names `what`.
pub fn integer_in(what: &str, n: f64, min: u64, max: u64) -> Result<u64> {
    if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 {
        Ok(n as u64)
    } else {
        Err(Error::invalid_argument(format!("{what} must be an integer from {min} to {max}, got {n}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_range_only() {
        assert_eq!(integer_in("n", 3.0, 1, 5).unwrap(), 3);
        for bad in [0.0, 6.0, 2.5, -1.0, f64::NAN, f64::INFINITY] {
            let e = integer_in("n", bad, 1, 5).unwrap_err();
            assert!(e.message.starts_with("n must be an integer from 1 to 5"), "{}", e.message);
        }
    }
}
