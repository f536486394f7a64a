//! Reading image documents (indexes, manifests, configs) with oci-spec, and the chain IDs that
//! name unpacked layers.

use super::digest::sha256;
use super::error::{Code, Error, Result};
use super::images::Descriptor;
use super::platform::Platform;
use super::registry::{MEDIA_DOCKER_LIST, MEDIA_OCI_INDEX};
use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};
use std::collections::HashMap;

pub fn is_index(media_type: &str) -> bool {
    media_type == MEDIA_OCI_INDEX || media_type == MEDIA_DOCKER_LIST
}

fn invalid(what: &str, err: impl std::fmt::Display) -> Error {
    Error::new(Code::FailedPrecondition, format!("{what}: invalid image document: {err}"))
}

pub fn descriptor(d: &oci_spec::image::Descriptor) -> Descriptor {
    Descriptor {
        media_type: d.media_type().to_string(),
        digest: d.digest().to_string(),
        size: d.size(),
        annotations: d.annotations().clone().unwrap_or_default(),
    }
}

/// The manifest for `platform` in an index, and the index's GC labels for all its manifests.
pub fn choose_manifest(index: &[u8], platform: &Platform, what: &str) -> Result<(Descriptor, HashMap<String, String>)> {
    let index = ImageIndex::from_reader(index).map_err(|e| invalid(what, e))?;
    let mut available = Vec::new();
    let mut chosen = None;
    for m in index.manifests() {
        let Some(p) = m.platform() else { continue };
        let (os, arch) = (p.os().to_string(), p.architecture().to_string());
        available.push(match p.variant() {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        });
        if chosen.is_none() && platform.matches(&os, &arch, p.variant().as_deref()) {
            chosen = Some(descriptor(m));
        }
    }
    let chosen = chosen.ok_or_else(|| {
        Error::new(
            Code::NotFound,
            format!("{what}: no manifest for platform {platform} (the index has {})", available.join(", ")),
        )
    })?;
    let labels = index
        .manifests()
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("containerd.io/gc.ref.content.m.{i}"), m.digest().to_string()))
        .collect();
    Ok((chosen, labels))
}

/// Every manifest of an index that names its platform, as (`os/arch[/variant]`, descriptor).
pub fn index_platforms(index: &[u8]) -> Vec<(String, Descriptor)> {
    let Ok(index) = ImageIndex::from_reader(index) else { return Vec::new() };
    index
        .manifests()
        .iter()
        .filter_map(|m| {
            let p = m.platform().as_ref()?;
            let name = match p.variant() {
                Some(v) => format!("{}/{}/{v}", p.os(), p.architecture()),
                None => format!("{}/{}", p.os(), p.architecture()),
            };
            Some((name, descriptor(m)))
        })
        .collect()
}

/// A manifest's config and layers, and its GC labels for them.
pub fn parse_manifest(bytes: &[u8], what: &str) -> Result<(Descriptor, Vec<Descriptor>, HashMap<String, String>)> {
    let manifest = ImageManifest::from_reader(bytes).map_err(|e| invalid(what, e))?;
    let config = descriptor(manifest.config());
    let layers: Vec<Descriptor> = manifest.layers().iter().map(descriptor).collect();
    let mut labels = HashMap::from([("containerd.io/gc.ref.content.config".to_string(), config.digest.clone())]);
    for (i, layer) in layers.iter().enumerate() {
        labels.insert(format!("containerd.io/gc.ref.content.l.{i}"), layer.digest.clone());
    }
    Ok((config, layers, labels))
}

/// The image config's layer diff IDs, checked against the manifest's layer count.
pub fn diff_ids(config: &[u8], layers: usize, what: &str) -> Result<Vec<String>> {
    let config = ImageConfiguration::from_reader(config).map_err(|e| invalid(what, e))?;
    let ids = config.rootfs().diff_ids().clone();
    if ids.len() != layers {
        return Err(invalid(what, format!("the config lists {} diff IDs for {layers} layers", ids.len())));
    }
    Ok(ids)
}

/// chainID(0) = diffID(0); chainID(i) = sha256(chainID(i-1) + " " + diffID(i)).
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
    for diff in diff_ids {
        let next = match out.last() {
            None => diff.clone(),
            Some(parent) => sha256(format!("{parent} {diff}").as_bytes()),
        };
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_oci_definition() {
        let a = "sha256:aaaa".to_string();
        let b = "sha256:bbbb".to_string();
        let chain = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(chain[0], a);
        assert_eq!(chain[1], sha256(b"sha256:aaaa sha256:bbbb"));
        assert!(chain_ids(&[]).is_empty());
    }

    #[test]
    fn chooses_by_platform() {
        let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1,"platform":{"os":"linux","architecture":"amd64"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":2,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}"#;
        let arm = Platform::parse("linux/arm64").unwrap();
        let (m, labels) = choose_manifest(index, &arm, "x").unwrap();
        assert_eq!(m.size, 2);
        assert_eq!(labels.len(), 2);
        let err = choose_manifest(index, &Platform::parse("linux/ppc64le").unwrap(), "x").unwrap_err();
        assert_eq!(err.code, Code::NotFound);
        assert!(err.message.contains("linux/arm64/v8"), "{}", err.message);
    }
}
