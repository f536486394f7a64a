//! Image records: the name → target descriptor mapping containerd keeps per namespace.

use super::cancel::Cancel;
use super::client::{Client, MAX_MESSAGE_BYTES};
use super::error::{Code, Error, Result};
use super::reference::Reference;
use crate::transport::Transport;
use containerd_client::services::v1::{
    images_client::ImagesClient, CreateImageRequest, DeleteImageRequest, GetImageRequest, Image, ListImagesRequest,
    UpdateImageRequest,
};
use containerd_client::types::Descriptor as ProtoDescriptor;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    pub annotations: HashMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ImageRecord {
    pub name: String,
    pub target: Descriptor,
    pub labels: HashMap<String, String>,
    /// Milliseconds since the epoch.
    pub created_at: f64,
    pub updated_at: f64,
}

fn images(ch: Transport) -> ImagesClient<Transport> {
    ImagesClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

pub(crate) fn millis(ts: Option<prost_types::Timestamp>) -> f64 {
    ts.map_or(0.0, |t| t.seconds as f64 * 1000.0 + f64::from(t.nanos) / 1e6)
}

impl From<ProtoDescriptor> for Descriptor {
    fn from(d: ProtoDescriptor) -> Descriptor {
        Descriptor {
            media_type: d.media_type,
            digest: d.digest,
            size: d.size.max(0) as u64,
            annotations: d.annotations,
        }
    }
}

impl From<&Descriptor> for ProtoDescriptor {
    fn from(d: &Descriptor) -> ProtoDescriptor {
        ProtoDescriptor {
            media_type: d.media_type.clone(),
            digest: d.digest.clone(),
            size: d.size as i64,
            annotations: d.annotations.clone(),
        }
    }
}

fn record(image: Image) -> ImageRecord {
    ImageRecord {
        name: image.name,
        target: image.target.map(Descriptor::from).unwrap_or_else(|| Descriptor {
            media_type: String::new(),
            digest: String::new(),
            size: 0,
            annotations: HashMap::new(),
        }),
        labels: image.labels,
        created_at: millis(image.created_at),
        updated_at: millis(image.updated_at),
    }
}

/// The names to try for a user-given image name: as given, then normalised (`busybox` →
/// `docker.io/library/busybox:latest`) when that differs.
fn candidate_names(name: &str) -> Result<Vec<String>> {
    if name.is_empty() {
        return Err(Error::invalid_argument("the image name must not be empty"));
    }
    let mut names = vec![name.to_string()];
    if let Ok(r) = Reference::parse(name) {
        if r.name() != name {
            names.push(r.name());
        }
    }
    Ok(names)
}

/// The NotFound to report for `name`; a name that is not even a valid reference says so instead
/// (`getImage('Bad Ref!')` is a mistake in the argument, not a missing image).
fn not_found(name: &str, last: Option<Error>) -> Error {
    if let Err(invalid) = Reference::parse(name) {
        if !is_digest(name) {
            return invalid;
        }
    }
    last.unwrap_or_else(|| Error::new(Code::NotFound, format!("image {name:?} not found")))
}

/// `sha256:` and 64 hex digits: an image's target digest rather than a name.
pub(crate) fn is_digest(name: &str) -> bool {
    name.strip_prefix("sha256:").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Client {
    pub async fn get_image(&self, name: &str, cancel: &Cancel) -> Result<ImageRecord> {
        let mut last = None;
        for candidate in candidate_names(name)? {
            let what = format!("get image {candidate:?}");
            match self
                .unary(&what, cancel, |ch| async move {
                    images(ch).get(self.request(GetImageRequest { name: candidate.clone() })).await
                })
                .await
            {
                Ok(reply) => {
                    if let Some(image) = reply.image {
                        return Ok(record(image));
                    }
                }
                Err(e) if e.code == Code::NotFound => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(not_found(name, last))
    }

    pub async fn list_images(&self, filters: Vec<String>, cancel: &Cancel) -> Result<Vec<ImageRecord>> {
        let reply = self
            .unary("list images", cancel, |ch| async move {
                images(ch).list(self.request(ListImagesRequest { filters })).await
            })
            .await?;
        Ok(reply.images.into_iter().map(record).collect())
    }

    /// Deletes an image record; `sync` waits for the garbage collector to finish.
    pub async fn delete_image(&self, name: &str, sync: bool, cancel: &Cancel) -> Result<()> {
        if is_digest(name) {
            return self.delete_image_by_digest(name, sync, cancel).await;
        }
        self.delete_image_named(name, sync, cancel).await
    }

    async fn delete_image_named(&self, name: &str, sync: bool, cancel: &Cancel) -> Result<()> {
        let mut last = None;
        for candidate in candidate_names(name)? {
            let what = format!("delete image {candidate:?}");
            match self
                .unary(&what, cancel, |ch| async move {
                    images(ch)
                        .delete(self.request(DeleteImageRequest { name: candidate.clone(), sync, target: None }))
                        .await
                })
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.code == Code::NotFound => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(not_found(name, last))
    }

    /// `deleteImage('sha256:…')`: the one image record whose target is that digest. Several names
    /// on one digest are refused (like `docker rmi`), naming them: delete those by name.
    async fn delete_image_by_digest(&self, digest: &str, sync: bool, cancel: &Cancel) -> Result<()> {
        let names: Vec<String> = self
            .list_images(vec![format!("target.digest=={digest}")], cancel)
            .await?
            .into_iter()
            .map(|i| i.name)
            .collect();
        match names.as_slice() {
            [] => Err(Error::new(Code::NotFound, format!("delete image {digest}: no image has this digest"))),
            [one] => self.delete_image_named(one, sync, cancel).await,
            many => Err(Error::new(
                Code::FailedPrecondition,
                format!(
                    "delete image {digest}: {} images have this digest ({}); delete them by name",
                    many.len(),
                    many.join(", ")
                ),
            )),
        }
    }

    /// Creates the image record, or points an existing one at the new target (and sets `labels`).
    pub(crate) async fn put_image(
        &self,
        name: &str,
        target: &Descriptor,
        labels: &HashMap<String, String>,
    ) -> Result<ImageRecord> {
        let image =
            Image { name: name.to_string(), labels: labels.clone(), target: Some(target.into()), ..Default::default() };
        let what = format!("create image {name:?}");
        let created = self
            .unary(&what, &Cancel::none(), |ch| {
                let image = image.clone();
                async move {
                    images(ch)
                        .create(self.request(CreateImageRequest { image: Some(image), source_date_epoch: None }))
                        .await
                }
            })
            .await;
        let reply_image = match created {
            Ok(reply) => reply.image,
            Err(e) if e.code == Code::AlreadyExists => {
                let mut paths = vec!["target".to_string()];
                paths.extend(labels.keys().map(|k| format!("labels.{k}")));
                let what = format!("update image {name:?}");
                self.unary(&what, &Cancel::none(), |ch| async move {
                    images(ch)
                        .update(self.request(UpdateImageRequest {
                            image: Some(image),
                            update_mask: Some(prost_types::FieldMask { paths }),
                            source_date_epoch: None,
                        }))
                        .await
                })
                .await?
                .image
            }
            Err(e) => return Err(e),
        };
        reply_image
            .map(record)
            .ok_or_else(|| Error::new(Code::Internal, format!("{what}: the daemon answered without the image")))
    }
}

impl Client {
    /// `tagImage(source, target)`: a second image record on the same target (and labels). The
    /// target name is normalised like a pulled image's (`app:1` → `docker.io/library/app:1`). An
    /// existing `target` is ALREADY_EXISTS unless `force`, which points it at the source's target.
    pub async fn tag_image(&self, source: &str, target: &str, force: bool, cancel: &Cancel) -> Result<ImageRecord> {
        let name = Reference::parse(target)?.name();
        let image = self.get_image(source, cancel).await?;
        let record = Image {
            name: name.clone(),
            labels: image.labels.clone(),
            target: Some((&image.target).into()),
            ..Default::default()
        };
        let what = format!("tag image {:?} as {name:?}", image.name);
        let created = self
            .unary(&what, cancel, |ch| {
                let record = record.clone();
                async move {
                    images(ch)
                        .create(self.request(CreateImageRequest { image: Some(record), source_date_epoch: None }))
                        .await
                }
            })
            .await;
        match created {
            Ok(reply) => reply
                .image
                .map(self::record)
                .ok_or_else(|| Error::new(Code::Internal, format!("{what}: the daemon answered without the image"))),
            Err(e) if e.code == Code::AlreadyExists && force => {
                self.put_image(&name, &image.target, &image.labels).await
            }
            Err(e) if e.code == Code::AlreadyExists => Err(Error::new(
                Code::AlreadyExists,
                format!("{what}: an image named {name:?} exists already (force replaces it)"),
            )),
            Err(e) => Err(e),
        }
    }
}
