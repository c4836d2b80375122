//! `ollyscale health`: the image's HEALTHCHECK, which needs no curl in the image.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::config::Config;

/// The readiness URL of the server this configuration describes: its API port on the loopback address when
/// it listens on every address.
pub fn readyz_url(config: &Config) -> String {
    let mut addr = config.api_listen;
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        IpAddr::V6(ip) if ip.is_unspecified() => addr.set_ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        _ => {}
    }
    format!("http://{addr}/readyz")
}

/// Probes `url` (default: [`readyz_url`]); succeeds on a 2xx answer within 5 s.
pub async fn run(config: Config, url: Option<String>) -> anyhow::Result<()> {
    let url = url.unwrap_or_else(|| readyz_url(&config));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
    let resp = client.get(&url).send().await.with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("GET {url}: {status}: {}", body.trim());
    }
    println!("{}", body.trim());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn probes_the_loopback_address_when_listening_on_all() {
        let c = Settings::default().resolve().unwrap();
        assert_eq!(readyz_url(&c), "http://127.0.0.1:8080/readyz");
        let s = Settings { api_listen: Some("[::]:9090".parse().unwrap()), ..Default::default() };
        assert_eq!(readyz_url(&s.resolve().unwrap()), "http://[::1]:9090/readyz");
        let s = Settings { api_listen: Some("10.1.2.3:8080".parse().unwrap()), ..Default::default() };
        assert_eq!(readyz_url(&s.resolve().unwrap()), "http://10.1.2.3:8080/readyz");
    }
}
