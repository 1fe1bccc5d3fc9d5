//! `nexus healthcheck`: asks a running instance on this machine for one of its probes with
//! a bare HTTP/1.1 request, so that a container health check needs neither curl nor wget.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Longest status line and headers read from the answer.
const MAX_HEAD: u64 = 16 * 1024;

/// Where to reach an instance bound to `host`: a wildcard address (`0.0.0.0`, `::`) is
/// reached on the loopback address of its family; anything else as it is.
#[must_use]
pub fn target(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) if ip.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        Ok(IpAddr::V6(ip)) if ip.is_unspecified() => format!("[{}]", Ipv6Addr::LOCALHOST),
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        _ => host.to_owned(),
    }
}

/// `GET path` on `host:port`; `Ok` with the status line when the answer is 200.
///
/// # Errors
/// Why the instance is not healthy: no connection, no answer within `timeout`, or another
/// status.
pub async fn probe(host: &str, port: u16, path: &str, timeout: Duration) -> Result<String, String> {
    let address = format!("{}:{port}", target(host));
    let exchange = async {
        let mut stream = TcpStream::connect(&address)
            .await
            .map_err(|e| format!("cannot connect to {address}: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: nexus-healthcheck\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("cannot send to {address}: {e}"))?;
        let mut head = Vec::new();
        stream
            .take(MAX_HEAD)
            .read_to_end(&mut head)
            .await
            .map_err(|e| format!("no answer from {address}: {e}"))?;
        Ok::<_, String>(head)
    };
    let head = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer from {address} within {} s", timeout.as_secs()))??;
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or_default().trim().to_owned();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    if status == "200" {
        Ok(format!("{path}: {status_line}"))
    } else if status_line.is_empty() {
        Err(format!("{path}: empty answer from {address}"))
    } else {
        Err(format!("{path}: {status_line}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_host_is_reached_on_loopback_and_others_as_they_are() {
        assert_eq!(target("0.0.0.0"), "127.0.0.1");
        assert_eq!(target("::"), "[::1]");
        assert_eq!(target("::1"), "[::1]");
        assert_eq!(target("10.0.0.5"), "10.0.0.5");
        assert_eq!(target("api.internal"), "api.internal");
    }
}
