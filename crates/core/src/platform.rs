//! Platforms (`linux/arm64/v8`) and picking a manifest from an index.

use super::error::{Error, Result};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this process runs on, in OCI terms.
    pub fn host() -> Platform {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", Some("v8")),
            "x86" => ("386", None),
            "arm" => ("arm", Some("v7")),
            "powerpc64" => ("ppc64le", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            other => (other, None),
        };
        Platform {
            os: std::env::consts::OS.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
        }
    }

    /// `os/arch[/variant]`, normalised like containerd (`aarch64` → `arm64`, `x86_64` → `amd64`).
    pub fn parse(text: &str) -> Result<Platform> {
        let bad = || {
            Error::invalid_argument(format!("invalid platform {text:?}: expected os/arch[/variant], e.g. linux/arm64"))
        };
        let parts: Vec<&str> = text.split('/').collect();
        if !(2..=3).contains(&parts.len())
            || parts.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(bad());
        }
        let os = parts[0].to_ascii_lowercase();
        let (architecture, default_variant) = match parts[1].to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" | "amd64" => ("amd64".to_string(), None),
            "aarch64" | "arm64" => ("arm64".to_string(), Some("v8")),
            "armhf" => ("arm".to_string(), Some("v7")),
            "armel" => ("arm".to_string(), Some("v6")),
            "i386" | "386" => ("386".to_string(), None),
            other => (other.to_string(), None),
        };
        let variant = parts.get(2).map(|v| v.to_ascii_lowercase()).or(default_variant.map(str::to_string));
        Ok(Platform { os, architecture, variant })
    }

    /// Whether a manifest's platform satisfies this one. A missing variant on either side matches
    /// the default (`arm64` ≡ `arm64/v8`), as containerd's matcher does.
    pub fn matches(&self, os: &str, architecture: &str, variant: Option<&str>) -> bool {
        let Ok(other) = Platform::parse(&format!("{os}/{architecture}")) else {
            return false;
        };
        if other.os != self.os || other.architecture != self.architecture {
            return false;
        }
        let theirs = variant.filter(|v| !v.is_empty()).map(str::to_string).or(other.variant);
        match (&self.variant, theirs) {
            (Some(mine), Some(theirs)) => *mine == theirs,
            _ => true,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(Platform::parse("linux/amd64").unwrap().to_string(), "linux/amd64");
        assert_eq!(Platform::parse("linux/arm64").unwrap().to_string(), "linux/arm64/v8");
        assert_eq!(Platform::parse("linux/aarch64/v8").unwrap().to_string(), "linux/arm64/v8");
        assert_eq!(Platform::parse("linux/x86_64").unwrap().to_string(), "linux/amd64");
        for bad in ["linux", "linux/", "/amd64", "linux/arm/v7/x", "linux/am d64", ""] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matches_with_default_variants() {
        let arm = Platform::parse("linux/arm64").unwrap();
        assert!(arm.matches("linux", "arm64", None));
        assert!(arm.matches("linux", "arm64", Some("v8")));
        assert!(!arm.matches("linux", "arm64", Some("v9")));
        assert!(!arm.matches("linux", "amd64", None));
        let amd = Platform::parse("linux/amd64").unwrap();
        assert!(amd.matches("linux", "amd64", None));
        assert!(!amd.matches("windows", "amd64", None));
        assert_eq!(Platform::host().os, "linux");
    }
}
