//! A thin client for the OCI distribution API: manifests and streamed blobs, with auth driven by
//! the registry's `WWW-Authenticate` challenge (anonymous, basic, bearer tokens).

use super::error::{Code, Error, Result};
use super::reference::Reference;
use base64::Engine;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, Response, StatusCode};
use std::fmt;
use std::time::Duration;
use tokio::sync::Mutex;

pub const MEDIA_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const MEDIA_DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1";

/// Manifests are small; a larger answer is refused rather than buffered (containerd uses 4 MiB).
const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// Error documents and token answers: what is read of them at most.
pub const MAX_SMALL_BODY_BYTES: usize = 64 << 10;

/// How long any registry read (an answer's headers, a body's next bytes) may wait for data.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Redirects followed at most (reqwest's default).
const MAX_REDIRECTS: usize = 10;

/// `stallTimeoutMs`: a finite number of milliseconds above 0; `None` is [`DEFAULT_STALL_TIMEOUT`].
pub fn stall_timeout(ms: Option<f64>) -> Result<Duration> {
    match ms {
        None => Ok(DEFAULT_STALL_TIMEOUT),
        Some(ms) if ms.is_finite() && ms > 0.0 && ms <= 24.0 * 3600.0 * 1000.0 => {
            Ok(Duration::from_micros((ms * 1000.0) as u64))
        }
        Some(ms) => Err(Error::invalid_argument(format!(
            "invalid stallTimeoutMs {ms}: must be a number of milliseconds above 0 (at most a day)"
        ))),
    }
}

/// Follows redirects, but never from https to plain http (a downgrade would expose the request,
/// and the registry's answer would no longer be authenticated by TLS).
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt.url().scheme() != "https" && attempt.previous().iter().any(|u| u.scheme() == "https");
        if downgrade {
            let to = attempt.url().to_string();
            attempt.error(format!("refused a redirect from https to plain http ({to})"))
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// Whether basic credentials may go to this token realm: https anywhere, plain http only to
/// loopback (decided from the parsed address). Anything else is refused before a request.
pub fn realm_allows_credentials(realm: &reqwest::Url) -> bool {
    match realm.scheme() {
        "https" => true,
        "http" => realm.host_str().is_some_and(super::reference::is_loopback_host),
        _ => false,
    }
}

/// Reads at most `limit` bytes of a body; the rest is never read (the connection is dropped).
/// Returns the bytes and whether the body went on past the limit.
async fn read_capped(response: Response, limit: usize) -> std::result::Result<(Vec<u8>, bool), reqwest::Error> {
    let mut out = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        let room = limit - out.len();
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, true));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, false))
}

#[derive(Clone)]
pub enum Credentials {
    Basic {
        username: String,
        password: String,
    },
    /// A registry bearer token sent as is.
    Token(String),
}

// Never print secrets, not even in debug output.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credentials::Token(_) => write!(f, "Token(<redacted>)"),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Default: true only for loopback registries.
    pub plain_http: Option<bool>,
    /// Extra CA certificate(s), PEM.
    pub ca: Option<Vec<u8>>,
    pub insecure_skip_verify: bool,
    /// The caller passed TLS options: that means HTTPS, also for a loopback registry.
    pub tls: bool,
    pub credentials: Option<Credentials>,
    /// Without `credentials`: look in the docker config (and its credential helpers), only once a
    /// registry answers 401, off the caller's thread, once per call.
    pub docker_config: bool,
    /// How long any registry read may wait for data (see [`stall_timeout`]; default 30 s).
    pub stall_timeout_ms: Option<f64>,
}

/// A manifest or index as fetched, with the digest of its exact bytes.
pub struct Fetched {
    pub bytes: Bytes,
    pub media_type: String,
    pub digest: String,
}

pub struct Registry {
    http: reqwest::Client,
    /// Without the read timeout: for blob uploads (see `new`).
    upload_http: reqwest::Client,
    base: String,
    /// `host[:port]` as the user wrote it, for messages and the distribution-source label.
    pub host: String,
    pub repository: String,
    credentials: Option<Credentials>,
    docker_config: bool,
    /// The docker config's answer, looked up on the first challenge.
    looked_up: tokio::sync::OnceCell<Option<Credentials>>,
    /// The Authorization header that last worked (or none yet).
    authorization: Mutex<Option<HeaderValue>>,
    /// Token scopes asked for besides the challenge's: a push's pull scope on the repositories
    /// it mounts blobs from (a registry treats an unauthorised mount as an ordinary upload).
    extra_scopes: Vec<String>,
}

/// How a blob upload began.
pub enum UploadStart {
    /// The registry linked the blob from another repository (201).
    Mounted,
    /// An upload session: PUT the bytes to this URL.
    Session(reqwest::Url),
}

impl Registry {
    pub fn new(reference: &Reference, options: &RegistryOptions) -> Result<Registry> {
        let plain = options.plain_http.unwrap_or_else(|| !options.tls && reference.is_loopback());
        let stall = stall_timeout(options.stall_timeout_ms)?;
        let client = |read_timeout: Option<Duration>| -> Result<reqwest::Client> {
            let mut builder = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(30))
                .redirect(redirect_policy())
                .user_agent(concat!("containerd-napi/", env!("CARGO_PKG_VERSION")))
                .danger_accept_invalid_certs(options.insecure_skip_verify);
            if let Some(read_timeout) = read_timeout {
                builder = builder.read_timeout(read_timeout);
            }
            if let Some(pem) = &options.ca {
                let certs =
                    reqwest::Certificate::from_pem_bundle(pem).ok().filter(|c| !c.is_empty()).ok_or_else(|| {
                        Error::invalid_argument("tls.ca must be PEM contents (-----BEGIN CERTIFICATE-----)")
                    })?;
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
            builder.build().map_err(|e| Error::new(Code::Internal, format!("cannot set up the HTTP client: {e}")))
        };
        Ok(Registry {
            // reqwest's read timeout runs from the request's start until the answer's headers, then
            // per body read: the stall timeout for every request but a blob upload, whose body
            // alone may take longer than the limit (that one request has no stall timeout).
            http: client(Some(stall))?,
            upload_http: client(None)?,
            base: format!("{}://{}", if plain { "http" } else { "https" }, reference.api_host()),
            host: reference.domain.clone(),
            repository: reference.repository.clone(),
            credentials: options.credentials.clone(),
            docker_config: options.docker_config,
            looked_up: tokio::sync::OnceCell::new(),
            authorization: Mutex::new(None),
            extra_scopes: Vec::new(),
        })
    }

    /// For a push that may mount blobs from `sources` (repositories on this registry).
    pub fn with_mount_sources(mut self, sources: impl IntoIterator<Item = String>) -> Registry {
        self.extra_scopes =
            sources.into_iter().filter(|r| *r != self.repository).map(|r| format!("repository:{r}:pull")).collect();
        self.extra_scopes.sort();
        self.extra_scopes.dedup();
        self
    }

    /// HEAD a blob: whether this repository has it already.
    pub async fn blob_exists(&self, digest: &str) -> Result<bool> {
        let url = format!("{}/v2/{}/blobs/{}", self.base, self.repository, digest);
        let what = format!("check {digest} in {}/{}", self.host, self.repository);
        let response = self.send_any(&what, || self.http.head(&url)).await?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.status_error(&what, response).await),
        }
    }

    /// POST an upload session, or a cross-repository mount of `digest` from `from`.
    pub async fn start_upload(&self, mount: Option<(&str, &str)>) -> Result<UploadStart> {
        let mut url = format!("{}/v2/{}/blobs/uploads/", self.base, self.repository);
        if let Some((digest, from)) = mount {
            url.push_str(&format!("?mount={digest}&from={from}"));
        }
        let what = match mount {
            Some((digest, from)) => format!("mount {digest} from {from} into {}/{}", self.host, self.repository),
            None => format!("start an upload to {}/{}", self.host, self.repository),
        };
        let response = self.send(&what, || self.http.post(&url).header(reqwest::header::CONTENT_LENGTH, "0")).await?;
        if response.status() == StatusCode::CREATED && mount.is_some() {
            return Ok(UploadStart::Mounted);
        }
        Ok(UploadStart::Session(self.location(&what, &response)?))
    }

    /// The upload session's URL from a `Location` header (often relative).
    fn location(&self, what: &str, response: &Response) -> Result<reqwest::Url> {
        let location =
            response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                Error::new(Code::Unknown, format!("{what}: registry {} answered without a Location", self.host))
            })?;
        response.url().join(location).map_err(|e| {
            Error::new(Code::Unknown, format!("{what}: registry {} sent an invalid Location: {e}", self.host))
        })
    }

    /// Uploads a blob monolithically into the session `at`: one PUT, its body streamed.
    pub async fn put_blob(
        &self,
        at: reqwest::Url,
        digest: &str,
        size: u64,
        body: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    ) -> Result<()> {
        let what = format!("upload {digest} to {}/{}", self.host, self.repository);
        let mut url = at;
        url.query_pairs_mut().append_pair("digest", digest);
        let current = self.authorization.lock().await.clone();
        let request = self
            .upload_http
            .put(url)
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(reqwest::Body::wrap_stream(body));
        let response = self.attempt(&what, request, current.as_ref()).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.status_error(&what, response).await)
        }
    }

    /// PUT a manifest or index, its bytes exactly as stored, under a tag or its digest.
    pub async fn put_manifest(&self, object: &str, media_type: &str, bytes: Bytes) -> Result<()> {
        let url = format!("{}/v2/{}/manifests/{}", self.base, self.repository, object);
        let sep = if object.contains(':') { '@' } else { ':' };
        let what = format!("push manifest {}/{}{sep}{object}", self.host, self.repository);
        self.send(&what, || self.http.put(&url).header(CONTENT_TYPE, media_type).body(bytes.clone())).await?;
        Ok(())
    }

    /// GET a manifest or index by tag or digest.
    pub async fn manifest(&self, object: &str) -> Result<Fetched> {
        let url = format!("{}/v2/{}/manifests/{}", self.base, self.repository, object);
        // A digest pins with '@' (name@sha256:…), a tag with ':'.
        let sep = if object.contains(':') { '@' } else { ':' };
        let what = format!("resolve {}/{}{sep}{object}", self.host, self.repository);
        let accept = [MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST, MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST].join(", ");
        let response = self.send(&what, || self.http.get(&url).header(ACCEPT, &accept)).await?;
        let media_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
            .unwrap_or_default();
        if response.content_length().is_some_and(|n| n > MAX_MANIFEST_BYTES as u64) {
            return Err(Error::new(
                Code::ResourceExhausted,
                format!("{what}: manifest larger than {MAX_MANIFEST_BYTES} bytes"),
            ));
        }
        let mut bytes = Vec::new();
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::from_http(&what, &self.host, &e))?;
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_MANIFEST_BYTES {
                return Err(Error::new(
                    Code::ResourceExhausted,
                    format!("{what}: manifest larger than {MAX_MANIFEST_BYTES} bytes"),
                ));
            }
        }
        if media_type.starts_with(MEDIA_DOCKER_SCHEMA1) {
            return Err(Error::new(
                Code::Unimplemented,
                format!("{what}: Docker schema 1 manifests are not supported"),
            ));
        }
        let media_type = if media_type.is_empty() || media_type == "application/json" {
            // Some registries omit it; the document's own mediaType field says what it is.
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["mediaType"].as_str().map(str::to_string))
                .unwrap_or_else(|| MEDIA_OCI_MANIFEST.to_string())
        } else {
            media_type
        };
        let digest = super::digest::sha256(&bytes);
        Ok(Fetched { bytes: Bytes::from(bytes), media_type, digest })
    }

    /// GET a blob; the body is streamed, never held whole.
    pub async fn blob(&self, digest: &str) -> Result<impl Stream<Item = Result<Bytes>> + Send + 'static> {
        let url = format!("{}/v2/{}/blobs/{}", self.base, self.repository, digest);
        let what = format!("fetch {digest} from {}/{}", self.host, self.repository);
        let response = self.send(&what, || self.http.get(&url)).await?;
        let host = self.host.clone();
        Ok(response.bytes_stream().map(move |chunk| chunk.map_err(|e| Error::from_http(&what, &host, &e))))
    }

    /// A small blob (an image config) whole, checked against its digest and size.
    pub async fn blob_bytes(&self, digest: &str, size: u64) -> Result<Bytes> {
        let what = format!("fetch {digest} from {}/{}", self.host, self.repository);
        if size > MAX_MANIFEST_BYTES as u64 {
            return Err(Error::new(
                Code::ResourceExhausted,
                format!("{what}: {size} bytes is too large for an image config"),
            ));
        }
        let mut body = self.blob(digest).await?;
        let mut bytes = Vec::with_capacity(size as usize);
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
            if bytes.len() as u64 > size {
                break;
            }
        }
        let actual = super::digest::sha256(&bytes);
        if bytes.len() as u64 != size || actual != digest {
            return Err(Error {
                code: Code::DataLoss,
                message: format!(
                    "{what}: the bytes received do not match their digest (got {actual}, {} bytes)",
                    bytes.len()
                ),
                details: Some(format!("expected {digest}, got {actual}")),
            });
        }
        Ok(Bytes::from(bytes))
    }

    /// Sends with the current authorization; on a 401 answers the challenge once and retries.
    /// Any other status is an error.
    async fn send(&self, what: &str, request: impl Fn() -> RequestBuilder) -> Result<Response> {
        let response = self.send_any(what, request).await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.status_error(what, response).await)
        }
    }

    /// As `send`, but the answer after authentication is returned whatever its status.
    async fn send_any(&self, what: &str, request: impl Fn() -> RequestBuilder) -> Result<Response> {
        let current = self.authorization.lock().await.clone();
        let response = self.attempt(what, request(), current.as_ref()).await?;
        let response = if response.status() == StatusCode::UNAUTHORIZED {
            let challenge =
                response.headers().get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).map(Challenge::parse);
            let Some(challenge) = challenge else {
                return Err(self.status_error(what, response).await);
            };
            let header = self.authorize(what, &challenge).await?;
            *self.authorization.lock().await = Some(header.clone());
            self.attempt(what, request(), Some(&header)).await?
        } else {
            response
        };
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(self.status_error(what, response).await);
        }
        Ok(response)
    }

    async fn attempt(&self, what: &str, request: RequestBuilder, auth: Option<&HeaderValue>) -> Result<Response> {
        let request = match auth {
            Some(value) => request.header(AUTHORIZATION, value.clone()),
            None => request,
        };
        send_logged(request).await.map_err(|e| Error::from_http(what, &self.host, &e))
    }

    async fn status_error(&self, what: &str, response: Response) -> Error {
        let status = response.status().as_u16();
        // At most 64 KiB of an error document: a registry cannot make us read an endless one.
        let body = read_capped(response, MAX_SMALL_BODY_BYTES).await.map(|(b, _)| b).unwrap_or_default();
        let body = String::from_utf8_lossy(&body);
        let mut err = Error::from_registry_status(what, &self.host, status, &body);
        if status == 401 && self.credentials().await.is_none() {
            err.message.push_str(" (no credentials were given or found in the docker config)");
        }
        err
    }

    /// The given credentials, else the docker config's for this registry (looked up once; a
    /// credential helper may take seconds, so never on the caller's thread).
    async fn credentials(&self) -> Option<&Credentials> {
        if self.credentials.is_some() || !self.docker_config {
            return self.credentials.as_ref();
        }
        let host = self.host.clone();
        self.looked_up
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || super::credentials::from_docker_config(&host)).await.ok().flatten()
            })
            .await
            .as_ref()
    }

    /// The Authorization header value that answers `challenge`.
    async fn authorize(&self, what: &str, challenge: &Challenge) -> Result<HeaderValue> {
        let header = match (challenge.scheme.as_str(), self.credentials().await) {
            (_, Some(Credentials::Token(token))) => format!("Bearer {token}"),
            ("basic", Some(Credentials::Basic { username, password })) => {
                let raw = format!("{username}:{password}");
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
            }
            ("basic", None) => {
                return Err(Error::new(
                    Code::Unauthenticated,
                    format!("{what}: registry {} requires credentials (basic auth); none were given or found in the docker config", self.host),
                ))
            }
            ("bearer", credentials) => format!("Bearer {}", self.fetch_token(what, challenge, credentials).await?),
            (scheme, _) => {
                return Err(Error::new(
                    Code::Unimplemented,
                    format!("{what}: registry {} asks for unsupported auth scheme {scheme:?}", self.host),
                ))
            }
        };
        HeaderValue::from_str(&header)
            .map_err(|_| Error::invalid_argument("credentials contain characters not allowed in an HTTP header"))
    }

    /// Asks the challenge's token service for a pull token, with basic credentials if we have them.
    async fn fetch_token(
        &self,
        what: &str,
        challenge: &Challenge,
        credentials: Option<&Credentials>,
    ) -> Result<String> {
        let realm = challenge.params.get("realm").ok_or_else(|| {
            Error::new(
                Code::Unauthenticated,
                format!("{what}: registry {} sent a bearer challenge without a realm", self.host),
            )
        })?;
        let scope =
            challenge.params.get("scope").cloned().unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        let mut query = vec![("scope", scope)];
        query.extend(self.extra_scopes.iter().map(|s| ("scope", s.clone())));
        if let Some(service) = challenge.params.get("service") {
            query.push(("service", service.clone()));
        }
        let realm_url = reqwest::Url::parse(realm).map_err(|_| {
            Error::new(
                Code::Unauthenticated,
                format!("{what}: registry {} named an invalid token realm {realm:?}", self.host),
            )
        })?;
        if !matches!(realm_url.scheme(), "http" | "https") {
            return Err(Error::new(
                Code::Unauthenticated,
                format!("{what}: registry {} named a token realm that is not http(s): {realm:?}", self.host),
            ));
        }
        let mut request = self.http.get(realm_url.clone()).query(&query);
        if let Some(Credentials::Basic { username, password }) = credentials {
            if !realm_allows_credentials(&realm_url) {
                return Err(Error::new(
                    Code::PermissionDenied,
                    format!(
                        "{what}: registry {} sends us to the token realm {realm:?} over plain http; credentials go only to https or loopback realms",
                        self.host
                    ),
                ));
            }
            request = request.basic_auth(username, Some(password));
        }
        let token_host = reqwest::Url::parse(realm)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_else(|| realm.clone());
        let response = send_logged(request).await.map_err(|e| Error::from_http(what, &token_host, &e))?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let body = read_capped(response, MAX_SMALL_BODY_BYTES).await.map(|(b, _)| b).unwrap_or_default();
            let mut err = Error::from_registry_status(what, &token_host, status, &String::from_utf8_lossy(&body));
            if status == 401 || status == 403 {
                err.code = Code::Unauthenticated;
                err.message = format!(
                    "{what}: the token service of registry {} refused {} (HTTP {status})",
                    self.host,
                    if credentials.is_some() {
                        "the credentials"
                    } else {
                        "anonymous access; no credentials were given or found in the docker config"
                    }
                );
            }
            return Err(err);
        }
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let (body, more) =
            read_capped(response, MAX_SMALL_BODY_BYTES).await.map_err(|e| Error::from_http(what, &token_host, &e))?;
        if more {
            return Err(Error::new(
                Code::ResourceExhausted,
                format!("{what}: the token service's answer is larger than {MAX_SMALL_BODY_BYTES} bytes"),
            ));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            Error::new(
                Code::Unauthenticated,
                format!("{what}: the token service answered something that is not a token: {e}"),
            )
        })?;
        answer.token.or(answer.access_token).filter(|t| !t.is_empty()).ok_or_else(|| {
            Error::new(Code::Unauthenticated, format!("{what}: the token service answered without a token"))
        })
    }
}

/// A parsed `WWW-Authenticate` header: scheme (lowercased) and its `key="value"` parameters.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    params: std::collections::HashMap<String, String>,
}

impl Challenge {
    fn parse(header: &str) -> Challenge {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        let mut params = std::collections::HashMap::new();
        let mut chars = rest.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
                chars.next();
            }
            let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
            if key.is_empty() {
                break;
            }
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                value = chars.by_ref().take_while(|c| *c != ',').collect::<String>().trim().to_string();
            }
            params.insert(key.trim().to_ascii_lowercase(), value);
        }
        Challenge { scheme: scheme.to_ascii_lowercase(), params }
    }
}

/// Sends, with a debug line (method, URL without credentials or query, status, duration) when
/// NODE_DEBUG asks for one.
async fn send_logged(request: RequestBuilder) -> std::result::Result<Response, reqwest::Error> {
    if !crate::debug::enabled() {
        return request.send().await;
    }
    let (client, request) = request.build_split();
    let request = request?;
    let (method, url) = (request.method().clone(), crate::debug::url(request.url()));
    let started = std::time::Instant::now();
    let result = client.execute(request).await;
    let status = match &result {
        Ok(response) => response.status().as_u16().to_string(),
        Err(e) if e.is_timeout() => "timed out".to_string(),
        Err(e) if e.is_connect() => "connect failed".to_string(),
        Err(_) => "failed".to_string(),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    crate::debug::line(format_args!("registry {method} {url} {status} {ms:.1}ms"));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="http://127.0.0.1:9/token",service="reg",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "http://127.0.0.1:9/token");
        assert_eq!(c.params["service"], "reg");
        assert_eq!(c.params["scope"], "repository:a/b:pull,push");
        let b = Challenge::parse(r#"Basic realm="Registry Realm""#);
        assert_eq!(b.scheme, "basic");
        assert_eq!(b.params["realm"], "Registry Realm");
    }

    #[test]
    fn realms_that_get_credentials() {
        for (realm, allowed) in [
            ("https://auth.docker.io/token", true),
            ("https://10.0.0.1:8443/token", true),
            ("http://127.0.0.1:5001/token", true),
            ("http://127.9.0.1/token", true),
            ("http://[::1]:5001/token", true),
            ("http://localhost:5001/token", true),
            ("http://127.0.0.1.nip.io/token", false),
            ("http://127.example.com/token", false),
            ("http://auth.example.com/token", false),
            ("http://10.0.0.1/token", false),
            ("http://[::2]/token", false),
            ("ftp://127.0.0.1/token", false),
            ("file:///etc/passwd", false),
        ] {
            assert_eq!(realm_allows_credentials(&reqwest::Url::parse(realm).unwrap()), allowed, "{realm}");
        }
    }

    #[test]
    fn stall_timeouts() {
        assert_eq!(stall_timeout(None).unwrap(), Duration::from_secs(30));
        assert_eq!(stall_timeout(Some(1500.0)).unwrap(), Duration::from_millis(1500));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e12] {
            assert!(stall_timeout(Some(bad)).is_err(), "{bad}");
        }
        let bad = RegistryOptions { stall_timeout_ms: Some(0.0), ..Default::default() };
        assert!(Registry::new(&Reference::parse("ghcr.io/a").unwrap(), &bad).is_err());
    }

    #[test]
    fn credentials_never_print() {
        let c = Credentials::Basic { username: "u".into(), password: "hunter2".into() };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credentials::Token("tok123".into())).contains("tok123"));
    }

    #[test]
    fn loopback_registries_default_to_plain_http() {
        let local = Registry::new(&Reference::parse("127.0.0.1:5000/a").unwrap(), &RegistryOptions::default()).unwrap();
        assert!(local.base.starts_with("http://"));
        let remote = Registry::new(&Reference::parse("ghcr.io/a").unwrap(), &RegistryOptions::default()).unwrap();
        assert!(remote.base.starts_with("https://"));
        let tls = RegistryOptions { tls: true, ..Default::default() };
        let local_tls = Registry::new(&Reference::parse("127.0.0.1:5000/a").unwrap(), &tls).unwrap();
        assert!(local_tls.base.starts_with("https://"), "tls options mean HTTPS, also on loopback");
        let forced = RegistryOptions { tls: true, plain_http: Some(true), ..Default::default() };
        assert!(Registry::new(&Reference::parse("127.0.0.1:5000/a").unwrap(), &forced)
            .unwrap()
            .base
            .starts_with("http://"));
        let bad_ca = RegistryOptions { ca: Some(b"/etc/ca.pem".to_vec()), ..Default::default() };
        assert!(Registry::new(&Reference::parse("ghcr.io/a").unwrap(), &bad_ca).is_err());
    }
}
