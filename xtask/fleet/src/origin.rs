//! The WebSocket port's guard: a browser page from anywhere but this machine is refused.
//!
//! A WebSocket is not bound by the same-origin policy, so without this any web page open in
//! the developer's browser could connect to the dev tool's broker and command the simulated
//! fleet. Browsers always send `Origin` on a WebSocket handshake; it must name a loopback host
//! (the dashboard, a page the developer serves locally). Clients that are not browsers (MQTT.js
//! in Node, the fleet's own tests) send none and are let through.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The longest handshake head read before deciding.
const MAX_HEAD: usize = 16 * 1024;

/// Whether a handshake with these header lines may reach the broker.
pub fn allowed(head: &str) -> bool {
    let origin = head.lines().skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("origin")
            .then(|| value.trim().to_ascii_lowercase())
    });
    let Some(origin) = origin else {
        return true;
    };
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false; // "null" (a sandboxed or file page) and anything unparsable
    };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        rest.split(':').next().unwrap_or_default()
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Serves `listener`: each connection's handshake is checked, then the connection is joined to
/// the broker's WebSocket listener on 127.0.0.1:`upstream`.
pub async fn guard(listener: TcpListener, upstream: u16) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = serve(client, upstream).await;
        });
    }
}

async fn serve(mut client: TcpStream, upstream: u16) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = client.read(&mut buf).await?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    if !allowed(&String::from_utf8_lossy(&head)) {
        let body = "this broker accepts WebSocket connections from pages on this machine only\n";
        let reply = format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(reply.as_bytes()).await?;
        return client.shutdown().await;
    }
    let mut broker = TcpStream::connect(("127.0.0.1", upstream)).await?;
    broker.set_nodelay(true)?;
    client.set_nodelay(true)?;
    broker.write_all(&head).await?;
    tokio::io::copy_bidirectional(&mut client, &mut broker).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::allowed;

    fn head(origin: Option<&str>) -> String {
        let mut h =
            "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\n".to_string();
        if let Some(o) = origin {
            h.push_str(&format!("Origin: {o}\r\n"));
        }
        h + "\r\n"
    }

    #[test]
    fn pages_from_elsewhere_are_refused() {
        // Defect 18 of the reliability issue: any web page could command the fleet.
        for o in [
            "https://evil.example",
            "http://127.0.0.1.evil.example",
            "null",
            "file://",
            "http://192.168.1.5:8080",
        ] {
            assert!(!allowed(&head(Some(o))), "{o}");
        }
        for o in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
            "HTTP://LOCALHOST",
        ] {
            assert!(allowed(&head(Some(o))), "{o}");
        }
        assert!(
            allowed(&head(None)),
            "a client that is not a browser sends no Origin"
        );
    }
}
