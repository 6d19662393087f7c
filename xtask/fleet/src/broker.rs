//! The embedded broker: rmqtt with a TCP listener (devices) and a WebSocket listener (browsers),
//! both on 127.0.0.1, retained messages in memory.

use rmqtt::context::ServerContext;
use rmqtt::net::Builder;
use rmqtt::server::MqttServer;

/// The retainer plugin: without it retained messages are dropped; its default TTL would make
/// them vanish after five minutes (device births are retained for as long as the device lives).
const RETAINER: &str = r#"
storage.type = "ram"
max_retained_messages = 0
max_payload_size = "1MB"
retained_message_ttl = "0s"
"#;

/// Starts the broker; the future runs it until it fails.
pub async fn start(
    tcp_port: u16,
    ws_port: u16,
) -> Result<impl std::future::Future<Output = Result<(), String>>, String> {
    let scx = ServerContext::new()
        .plugins_config_map_add("rmqtt-retainer", RETAINER)
        .build()
        .await;
    rmqtt_retainer::register(&scx, true, false)
        .await
        .map_err(|e| format!("cannot start the retainer plugin: {e}"))?;
    let bind = |name: &str, port: u16| {
        Builder::new()
            .name(name)
            .laddr(([127, 0, 0, 1], port).into())
            // Every device is on loopback: one address, thousands of connections.
            .max_connections(1_000_000)
            .bind()
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port} ({name}): {e}; is another broker running there? pass another port"))
    };
    let tcp = bind("devices/tcp", tcp_port)?
        .tcp()
        .map_err(|e| e.to_string())?;
    // Browsers reach the WebSocket listener through the origin guard (origin.rs): rmqtt's
    // own listener is on a loopback port of its own.
    let public = tokio::net::TcpListener::bind(("127.0.0.1", ws_port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{ws_port} (browsers/ws): {e}; is another broker running there? pass another port"))?;
    let internal = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))?;
    let ws = bind("browsers/ws", internal)?
        .ws()
        .map_err(|e| e.to_string())?;
    let server = MqttServer::new(scx).listener(tcp).listener(ws).build();
    Ok(async move {
        tokio::select! {
            r = server.run() => r.map_err(|e| format!("the broker stopped: {e}")),
            () = crate::origin::guard(public, internal) => Err("the origin guard stopped".into()),
        }
    })
}
