//! Registry credentials from the docker config file (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`), read at pull time so a `docker login` in between is seen.

use super::registry::Credentials;

/// Basic credentials for `host` (a registry domain as in an image reference), if configured.
/// Credential helpers named by the config are run as docker runs them. OAuth identity tokens
/// are not supported yet and are treated as no credentials.
pub fn from_docker_config(host: &str) -> Option<Credentials> {
    let server = if host == "docker.io" { "https://index.docker.io/v1/" } else { host };
    match docker_credential::get_credential(server) {
        Ok(docker_credential::DockerCredential::UsernamePassword(username, password)) => {
            Some(Credentials::Basic { username, password })
        }
        _ => None,
    }
}
