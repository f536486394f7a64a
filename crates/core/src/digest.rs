//! Content digests: computed while streaming, compared before anything is committed.

use sha2::{Digest as _, Sha256, Sha512};

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// An incremental verifier for the algorithm named by an expected digest.
pub enum Verifier {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Verifier {
    /// `None` for algorithms we cannot verify (reference parsing only admits sha256 and sha512).
    pub fn for_digest(expected: &str) -> Option<Verifier> {
        match expected.split_once(':')?.0 {
            "sha256" => Some(Verifier::Sha256(Sha256::new())),
            "sha512" => Some(Verifier::Sha512(Sha512::new())),
            _ => None,
        }
    }

    pub fn sha256() -> Verifier {
        Verifier::Sha256(Sha256::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Verifier::Sha256(h) => h.update(bytes),
            Verifier::Sha512(h) => h.update(bytes),
        }
    }

    pub fn finish(self) -> String {
        match self {
            Verifier::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            Verifier::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_equals_whole() {
        let mut v = Verifier::for_digest("sha256:x").unwrap();
        v.update(b"hello ");
        v.update(b"world");
        assert_eq!(v.finish(), sha256(b"hello world"));
        assert_eq!(sha256(b""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert!(Verifier::for_digest("md5:x").is_none());
    }
}
