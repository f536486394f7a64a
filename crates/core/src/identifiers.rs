//! containerd's identifier rules (namespaces, and later container and snapshot ids), checked
//! before any RPC so a bad name is an INVALID_ARGUMENT that names the value.

use super::error::{Error, Result};

/// containerd's `identifiers.Validate` limit.
const MAX_LEN: usize = 76;

/// Alphanumeric runs joined by single `.`, `_` or `-`, at most 76 characters.
pub fn validate(kind: &str, value: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid_argument(format!("invalid {kind} {value:?}: {why}")));
    if value.is_empty() {
        return bad("must not be empty");
    }
    if value.len() > MAX_LEN {
        return bad(&format!("longer than {MAX_LEN} characters"));
    }
    let mut prev_sep = true; // the first character must not be a separator
    for c in value.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => prev_sep = false,
            '.' | '_' | '-' if !prev_sep => prev_sep = true,
            _ => {
                return bad("must be letters and digits, joined by single '.', '_' or '-'");
            }
        }
    }
    if prev_sep {
        return bad("must not end with a separator");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_containerd_style_names() {
        for ok in ["default", "k8s.io", "a", "my_ns-1", "A.b_c-d"] {
            validate("namespace", ok).unwrap();
        }
    }

    #[test]
    fn rejects_what_containerd_rejects() {
        let long = "a".repeat(77);
        for bad in ["", "-a", "a-", "a..b", "a b", "ns/x", "é", long.as_str()] {
            let e = validate("namespace", bad).unwrap_err();
            assert_eq!(e.code, crate::error::Code::InvalidArgument, "{bad}");
            assert!(e.message.contains("namespace"));
        }
    }
}
