//! The embedded broker: rmqtt with a TCP listener (devices) and a WebSocket listener (browsers),
//! both on 127.0.0.1, retained messages in memory, shared subscriptions (`$share/group/filter`),
//! `$SYS` statistics per node;
//! with a [`Cluster`], one node of an rmqtt raft cluster (cluster.rs).

use rmqtt::context::ServerContext;
use rmqtt::net::Builder;
use rmqtt::server::MqttServer;

use crate::cluster::Cluster;

/// The retainer plugin: without it retained messages are dropped; its default TTL would make
/// them vanish after five minutes (device births are retained for as long as the device lives).
const RETAINER: &str = r#"
storage.type = "ram"
max_retained_messages = 0
max_payload_size = "1MB"
retained_message_ttl = "0s"
"#;

/// Shared subscriptions: without this plugin rmqtt refuses `$share/...` filters. Round robin over
/// the group's members, on whatever node they are.
const SHARED: &str = r#"strategy = "round_robin""#;

/// `$SYS/brokers/{node}/stats` and `.../metrics` every 5 s (JSON: connections, sessions,
/// subscriptions, queues, ...): the dashboard's health view shows them per node.
const SYS_TOPIC: &str = r#"
publish_qos = 0
publish_interval = "5s"
message_retain_available = false
message_expiry_interval = "30s"
"#;

/// Starts the broker; the future runs it until it fails. With `cluster`, this node joins the
/// cluster (or leads it) before its listeners open.
pub async fn start(
    tcp_port: u16,
    ws_port: u16,
    cluster: Option<&Cluster>,
) -> Result<impl std::future::Future<Output = Result<(), String>>, String> {
    let mut scx = ServerContext::new()
        .plugins_config_map_add("rmqtt-retainer", RETAINER)
        .plugins_config_map_add("rmqtt-shared-subscription", SHARED)
        .plugins_config_map_add("rmqtt-sys-topic", SYS_TOPIC);
    if let Some(c) = cluster {
        scx = scx
            .node_id(c.node_id)
            .plugins_config_map_add("rmqtt-cluster-raft", c.raft_plugin_config());
    }
    let scx = scx.build().await;
    if let Some(c) = cluster {
        // Forwarded publishes and cross-node queries arrive here (the raft plugin's peers).
        scx.node
            .start_grpc_server(scx.clone(), c.grpc_addr(), true, false);
    }
    rmqtt_retainer::register(&scx, true, false)
        .await
        .map_err(|e| format!("cannot start the retainer plugin: {e}"))?;
    rmqtt_shared_subscription::register(&scx, true, false)
        .await
        .map_err(|e| format!("cannot start the shared subscription plugin: {e}"))?;
    rmqtt_sys_topic::register(&scx, true, false)
        .await
        .map_err(|e| format!("cannot start the $SYS topic plugin: {e}"))?;
    if cluster.is_some() {
        rmqtt_cluster_raft::register(&scx, true, false)
            .await
            .map_err(|e| format!("cannot join the cluster: {e}"))?;
    }
    let bind = |name: &str, port: u16| {
        Builder::new()
            .name(name)
            .laddr(([127, 0, 0, 1], port).into())
            // Every device is on loopback: one address, thousands of connections.
            .max_connections(1_000_000)
            // A node started again binds at once, past its old connections' TIME_WAIT.
            .reuseaddr(Some(true))
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
