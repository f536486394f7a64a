//! Image references, normalised the way docker and containerd do it:
//! `busybox` → `docker.io/library/busybox:latest`.

use super::error::{Error, Result};

const DOCKER_HUB: &str = "docker.io";
const MAX_NAME_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The registry host as written (with port), `docker.io` for Docker Hub.
    pub domain: String,
    /// The repository path inside the registry, e.g. `library/busybox`.
    pub repository: String,
    pub tag: Option<String>,
    /// `algorithm:hex`, validated.
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference> {
        let bad = |why: &str| Err(Error::invalid_argument(format!("invalid image reference {text:?}: {why}")));
        if text.is_empty() {
            return bad("must not be empty");
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("contains whitespace or control characters");
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                if let Err(why) = validate_digest(digest) {
                    return bad(&why);
                }
                (rest, Some(digest.to_string()))
            }
            None => (text, None),
        };
        // A tag is the part after the last ':' that is not followed by a '/' (else it is a port).
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(rest[i + 1..].to_string())),
            _ => (rest, None),
        };
        if let Some(tag) = &tag {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && tag.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !valid {
                return bad("the tag must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'");
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                (first.to_string(), path.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        if !valid_domain(&domain) {
            return bad("the registry host is not a valid host[:port]");
        }
        let repository = if domain == DOCKER_HUB && !path.contains('/') { format!("library/{path}") } else { path };
        if let Err(why) = validate_repository(&repository) {
            return bad(&why);
        }
        if domain.len() + 1 + repository.len() > MAX_NAME_LEN {
            return bad(&format!("the name is longer than {MAX_NAME_LEN} characters"));
        }
        // Without tag or digest the tag is `latest`.
        let tag = if tag.is_none() && digest.is_none() { Some("latest".to_string()) } else { tag };
        Ok(Reference { domain, repository, tag, digest })
    }

    /// The full normalised name containerd stores images under.
    pub fn name(&self) -> String {
        let mut out = format!("{}/{}", self.domain, self.repository);
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// What to ask the registry's manifest endpoint for: the digest if pinned, else the tag.
    pub fn object(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// The host to talk HTTP to (Docker Hub's API lives on another name).
    pub fn api_host(&self) -> &str {
        if self.domain == DOCKER_HUB {
            "registry-1.docker.io"
        } else {
            &self.domain
        }
    }

    /// Registries on loopback are plain HTTP by default, like containerd's and docker's defaults.
    pub fn is_loopback(&self) -> bool {
        let host = match self.domain.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => &self.domain,
        };
        is_loopback_host(host)
    }
}

/// "localhost", or an IP address (bare or in brackets) on loopback: decided from the parsed
/// address, so `127.0.0.1.example.com` is not loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn valid_domain(domain: &str) -> bool {
    // `[v6]` or `[v6]:port`, else `host` or `host:port`.
    let (host, port) = match domain.find(']') {
        Some(end) => match &domain[end + 1..] {
            "" => (&domain[..=end], None),
            rest => (&domain[..=end], Some(rest.strip_prefix(':').unwrap_or("x"))),
        },
        None => match domain.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (domain, None),
        },
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    if let Some(ip6) = host.strip_prefix('[') {
        return ip6.strip_suffix(']').is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok());
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Path components: lowercase alphanumerics separated by `.`, `_`, `__` or runs of `-`.
fn validate_repository(repository: &str) -> std::result::Result<(), String> {
    for component in repository.split('/') {
        let chars: Vec<char> = component.chars().collect();
        let ok = !chars.is_empty()
            && chars.first().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && chars.last().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && chars.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
            && !component.contains("..")
            && !component.contains("___")
            && !component.contains("._")
            && !component.contains("_.")
            && !component.contains(".-")
            && !component.contains("-.")
            && !component.contains("_-")
            && !component.contains("-_");
        if !ok {
            return Err(format!(
                "repository component {component:?} must be lowercase letters and digits separated by '.', '_', '__' or '-'"
            ));
        }
    }
    Ok(())
}

/// `sha256:<64 hex>` or `sha512:<128 hex>`, lowercase.
pub fn validate_digest(digest: &str) -> std::result::Result<(), String> {
    let ok = match digest.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64,
        Some(("sha512", hex)) => hex.len() == 128,
        _ => false,
    } && digest
        .split_once(':')
        .is_some_and(|(_, hex)| hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    if ok {
        Ok(())
    } else {
        Err(format!("{digest:?} is not a digest (sha256:<64 lowercase hex>)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn normalises_like_docker() {
        let cases = [
            ("busybox", "docker.io/library/busybox:latest"),
            ("busybox:1.36", "docker.io/library/busybox:1.36"),
            ("user/app", "docker.io/user/app:latest"),
            ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
            ("127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest"),
            ("localhost/a/b:v1", "localhost/a/b:v1"),
            ("ghcr.io/org/img:tag", "ghcr.io/org/img:tag"),
            ("reg.example.com:443/x_y/z__w-1.2:T_a.g-9", "reg.example.com:443/x_y/z__w-1.2:T_a.g-9"),
        ];
        for (input, name) in cases {
            assert_eq!(Reference::parse(input).unwrap().name(), name, "{input}");
        }
        let pinned = Reference::parse(&format!("127.0.0.1:5000/busybox@{D}")).unwrap();
        assert_eq!(pinned.name(), format!("127.0.0.1:5000/busybox@{D}"));
        assert_eq!(pinned.object(), D);
        assert_eq!(pinned.tag, None);
        let both = Reference::parse(&format!("busybox:1@{D}")).unwrap();
        assert_eq!(both.name(), format!("docker.io/library/busybox:1@{D}"));
    }

    #[test]
    fn rejects_malformed_references() {
        let long = format!("a/{}", "b".repeat(260));
        for bad in [
            "",
            "Busybox",
            "busybox:",
            "busybox:-x",
            "a//b",
            "a/b/",
            "busybox@sha256:abc",
            "busybox@md5:0123",
            "bad host:1/x",
            "a b",
            "reg.example.com:port/x",
            "x/.y",
            long.as_str(),
            "busybox:tag:other",
            "[::1/x",
            "[::1]x/y",
        ] {
            let e = Reference::parse(bad).unwrap_err();
            assert_eq!(e.code, crate::error::Code::InvalidArgument, "{bad:?}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(Reference::parse("busybox").unwrap().api_host(), "registry-1.docker.io");
        assert!(Reference::parse("127.0.0.1:5000/x").unwrap().is_loopback());
        assert!(Reference::parse("localhost:5000/x").unwrap().is_loopback());
        assert!(Reference::parse("[::1]:5000/x").unwrap().is_loopback());
        assert_eq!(Reference::parse("[::1]/x").unwrap().domain, "[::1]");
        assert!(!Reference::parse("ghcr.io/x").unwrap().is_loopback());
        assert!(Reference::parse("127.8.9.10:5000/x").unwrap().is_loopback());
        assert!(!Reference::parse("127.0.0.1.nip.io:5000/x").unwrap().is_loopback(), "a name, not an address");
        assert!(!Reference::parse("127.example.com/x").unwrap().is_loopback());
        assert!(!Reference::parse("[::2]:5000/x").unwrap().is_loopback());
        for (host, loopback) in [
            ("localhost", true),
            ("LOCALHOST", true),
            ("::1", true),
            ("[::1]", true),
            ("127.0.0.1", true),
            ("10.0.0.1", false),
            ("127.1", false),
            ("localhost.evil", false),
            ("", false),
        ] {
            assert_eq!(is_loopback_host(host), loopback, "{host}");
        }
    }
}
