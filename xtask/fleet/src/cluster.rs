//! One node of an rmqtt cluster: rmqtt's own raft plugin (`rmqtt-cluster-raft`), never a cluster
//! of ours. Why raft and not `rmqtt-cluster-broadcast`: raft replicates the subscription table and
//! where each client is connected, so a publish goes only to the nodes with subscribers, a client
//! id is known cluster-wide (a second connection with it takes the first over, on any node) and
//! shared subscriptions pick one member across nodes; broadcast sends every publish to every node
//! and keeps no cluster-wide state. Neither replicates a session's queued messages: that state
//! lives on the node the client was on (see README, "A cluster").
//!
//! Each node is a process of its own (`wasmqtt-fleet --node-id 2 --grpc-addrs .. --raft-addrs
//! ..`), so a test can kill it (SIGKILL), freeze it (SIGSTOP) and start it again.

/// Where the nodes of the cluster talk to each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// This node's id (1-based, as rmqtt counts).
    pub node_id: u64,
    /// `id@host:port` of every node's gRPC server (forwarded publishes, kicks, queries).
    pub grpc: Vec<String>,
    /// `id@host:port` of every node's raft endpoint.
    pub raft: Vec<String>,
}

impl Cluster {
    /// Checks the lists: the same ids in both, this node among them, loopback addresses only.
    pub fn new(node_id: u64, grpc: &str, raft: &str) -> Result<Cluster, String> {
        let split = |list: &str, what: &str| -> Result<Vec<(u64, String)>, String> {
            list.split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(|entry| {
                    let (id, addr) = entry.split_once('@').ok_or_else(|| {
                        format!("{what}: {entry:?} is not id@host:port (e.g. 1@127.0.0.1:5363)")
                    })?;
                    let id = id
                        .parse::<u64>()
                        .ok()
                        .filter(|id| *id > 0)
                        .ok_or_else(|| format!("{what}: node id {id:?} is not a number above 0"))?;
                    let sock: std::net::SocketAddr = addr
                        .parse()
                        .map_err(|_| format!("{what}: {addr:?} is not host:port"))?;
                    if !sock.ip().is_loopback() {
                        return Err(format!(
                            "{what}: {addr} is not a loopback address; the dev tool's cluster runs on 127.0.0.1 or ::1"
                        ));
                    }
                    Ok((id, entry.to_string()))
                })
                .collect()
        };
        let (g, r) = (split(grpc, "--grpc-addrs")?, split(raft, "--raft-addrs")?);
        let ids = |l: &[(u64, String)]| {
            let mut v: Vec<u64> = l.iter().map(|(i, _)| *i).collect();
            v.sort_unstable();
            v
        };
        let (gi, ri) = (ids(&g), ids(&r));
        if gi.windows(2).any(|w| w[0] == w[1]) {
            return Err("--grpc-addrs names a node twice".into());
        }
        if gi != ri {
            return Err(format!(
                "--grpc-addrs names nodes {gi:?} and --raft-addrs nodes {ri:?}: they must be the same"
            ));
        }
        if !gi.contains(&node_id) {
            return Err(format!(
                "--node-id {node_id} is not among the nodes of --grpc-addrs ({gi:?})"
            ));
        }
        Ok(Cluster {
            node_id,
            grpc: g.into_iter().map(|(_, e)| e).collect(),
            raft: r.into_iter().map(|(_, e)| e).collect(),
        })
    }

    /// This node's gRPC address.
    pub fn grpc_addr(&self) -> std::net::SocketAddr {
        self.grpc
            .iter()
            .find_map(|e| {
                let (id, addr) = e.split_once('@')?;
                (id.parse() == Ok(self.node_id)).then(|| addr.parse().ok())?
            })
            .expect("checked in Cluster::new")
    }

    /// The raft plugin's configuration. Node 1 leads a new cluster; a node started again
    /// (node 1 included) first looks for the cluster's current leader and joins it.
    pub fn raft_plugin_config(&self) -> String {
        let list = |l: &[String]| {
            l.iter()
                .map(|e| format!("\"{e}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "worker_threads = 2\n\
             node_grpc_addrs = [{}]\n\
             raft_peer_addrs = [{}]\n\
             leader_id = 1\n\
             node_grpc_client_timeout = \"3s\"\n\
             try_lock_timeout = \"5s\"\n\
             compression = \"zstd\"\n\
             health.exit_on_node_unavailable = false\n\
             raft.grpc_timeout = \"3s\"\n\
             raft.heartbeat = \"100ms\"\n\
             raft.election_tick = 10\n\
             raft.heartbeat_tick = 5\n\
             raft.check_quorum = true\n\
             raft.pre_vote = true\n",
            list(&self.grpc),
            list(&self.raft)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_checked() {
        let c = Cluster::new(
            2,
            "1@127.0.0.1:5363,2@127.0.0.1:5364 3@127.0.0.1:5365",
            "1@127.0.0.1:6003,2@127.0.0.1:6004,3@127.0.0.1:6005",
        )
        .unwrap();
        assert_eq!(c.grpc_addr(), "127.0.0.1:5364".parse().unwrap());
        let toml = c.raft_plugin_config();
        assert!(toml.contains(
            r#"node_grpc_addrs = ["1@127.0.0.1:5363", "2@127.0.0.1:5364", "3@127.0.0.1:5365"]"#
        ));
        assert!(toml.contains("leader_id = 1"));

        let err = |id, g, r| Cluster::new(id, g, r).unwrap_err();
        assert!(err(4, "1@127.0.0.1:1", "1@127.0.0.1:2").contains("not among"));
        assert!(err(1, "1@127.0.0.1:1,2@127.0.0.1:3", "1@127.0.0.1:2").contains("the same"));
        assert!(err(1, "1@10.0.0.1:1", "1@127.0.0.1:2").contains("loopback"));
        assert!(err(1, "127.0.0.1:1", "1@127.0.0.1:2").contains("id@host:port"));
        assert!(err(1, "0@127.0.0.1:1", "0@127.0.0.1:2").contains("above 0"));
        assert!(err(1, "1@127.0.0.1:1,1@127.0.0.1:3", "1@127.0.0.1:2").contains("twice"));
    }
}
