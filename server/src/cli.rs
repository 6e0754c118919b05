//! Command-line interface of the `muster` binary: the console (no subcommand) and go-micro-style
//! registry commands (`services`, `service`, `register`, `deregister`, `watch`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Muster: a live web console for go-micro service registries.
///
/// Without a subcommand, serves the dashboard and the JSON API on --listen and embeds the chosen
/// registry backend. The subcommands speak to the registry directly, like go-micro's `micro`
/// CLI. Every flag can also be set through the environment variable named in its help.
#[derive(Debug, Parser)]
#[command(name = "muster", version, about, long_about)]
pub struct Cli {
    /// Which registry, and how to reach it (shared by the console and every subcommand).
    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Print machine-readable JSON instead of text (subcommands).
    #[arg(long, global = true, env = "MUSTER_JSON")]
    pub json: bool,

    /// What to do; the console when absent.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The console's settings.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The registry backend and its settings.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// Registry backend: go-micro's mDNS dialect on the LAN, etcd, or an in-process registry
    /// (what is registered through this process only; for demos and tests).
    #[arg(long, global = true, env = "MUSTER_REGISTRY", value_enum, default_value_t = RegistryKind::Mdns)]
    pub registry: RegistryKind,

    /// Addresses of the registry's store, comma-separated (etcd endpoints, default
    /// 127.0.0.1:2379; unused by mdns and memory).
    #[arg(
        long,
        global = true,
        env = "MUSTER_REGISTRY_ADDRESS",
        value_delimiter = ','
    )]
    pub registry_address: Vec<String>,

    /// mDNS domain the services live under (go-micro's default: micro).
    #[arg(
        long,
        global = true,
        env = "MUSTER_MDNS_DOMAIN",
        default_value = "micro"
    )]
    pub mdns_domain: String,

    /// Network interfaces for mDNS, by name or address, comma-separated or repeated; default:
    /// every interface that is up, multicast-capable and not loopback.
    #[arg(long, global = true, env = "MUSTER_INTERFACE", value_delimiter = ',')]
    pub interface: Vec<String>,

    /// mDNS: nodes one source address may have in the cache; past it, that address's own
    /// oldest one-shot nodes make room, so one flooding host cannot lock the others out.
    #[arg(long, global = true, env = "MUSTER_MDNS_SOURCE_QUOTA", default_value_t = muster_registry::mdns::bounds::DEFAULT_SOURCE_QUOTA)]
    pub mdns_source_quota: usize,

    /// mDNS: longest TTL believed from the network, e.g. 240s; a node claiming more is asked
    /// again at 80 % of this and must answer to stay (a one-shot announcer cannot park fake
    /// nodes for a day).
    #[arg(long, global = true, env = "MUSTER_MDNS_MAX_TTL", default_value = "240s", value_parser = parse_duration)]
    pub mdns_max_ttl: Duration,
    /// How to reach a secured etcd.
    #[command(flatten)]
    pub etcd: EtcdArgs,
}

/// TLS and authentication for `--registry etcd`. Certificates are always verified: etcd's
/// against --registry-ca-file (or the system's roots), and its name against the address or
/// --registry-server-name.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "etcd TLS and authentication")]
pub struct EtcdArgs {
    /// Speak TLS to etcd, verifying its certificate against the system's trusted roots (implied
    /// by the other TLS flags). etcd's certificate is always verified, against its CA and
    /// name; go-micro's `Secure` without a TLS config skips that check, Muster has no such mode.
    #[arg(long, global = true, env = "MUSTER_REGISTRY_SECURE")]
    pub registry_secure: bool,

    /// PEM file of the CA that signed etcd's server certificates; verified against it instead
    /// of the system's roots. Implies TLS.
    #[arg(long, global = true, env = "MUSTER_REGISTRY_CA_FILE")]
    pub registry_ca_file: Option<PathBuf>,

    /// PEM client certificate for mutual TLS (etcd's --client-cert-auth); needs
    /// --registry-key-file. Implies TLS.
    #[arg(
        long,
        global = true,
        env = "MUSTER_REGISTRY_CERT_FILE",
        requires = "registry_key_file"
    )]
    pub registry_cert_file: Option<PathBuf>,

    /// PEM private key of --registry-cert-file.
    #[arg(
        long,
        global = true,
        env = "MUSTER_REGISTRY_KEY_FILE",
        requires = "registry_cert_file"
    )]
    pub registry_key_file: Option<PathBuf>,

    /// Name etcd's certificate must be valid for, when it is not the host of
    /// --registry-address (e.g. connecting by IP to a certificate issued for a DNS name).
    /// Implies TLS.
    #[arg(long, global = true, env = "MUSTER_REGISTRY_SERVER_NAME")]
    pub registry_server_name: Option<String>,

    /// etcd user (etcd's --auth; go-micro's etcd.Auth).
    #[arg(long, global = true, env = "MUSTER_REGISTRY_USER")]
    pub registry_user: Option<String>,

    /// That user's password. Prefer --registry-password-file or the environment variable:
    /// a flag's value is visible in the process list.
    #[arg(
        long,
        global = true,
        env = "MUSTER_REGISTRY_PASSWORD",
        hide_env_values = true,
        requires = "registry_user",
        conflicts_with = "registry_password_file"
    )]
    pub registry_password: Option<String>,

    /// File holding that user's password (its first line; a trailing newline is ignored).
    #[arg(
        long,
        global = true,
        env = "MUSTER_REGISTRY_PASSWORD_FILE",
        requires = "registry_user"
    )]
    pub registry_password_file: Option<PathBuf>,
}

/// Settings of the console (`muster` without a subcommand).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the web console listens on. Beyond loopback, actions need --admin-token.
    #[arg(long, env = "MUSTER_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Token that unlocks actions (register, deregister, evict): typed into the login form, or
    /// sent by scripts as `Authorization: Bearer <token>`. Without it, a console listening
    /// beyond loopback is read-only.
    #[arg(long, env = "MUSTER_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Directory for the console's state (the registrations it keeps); default:
    /// $XDG_STATE_HOME/muster or ~/.local/state/muster.
    #[arg(long, env = "MUSTER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// How often every node's health is checked: `Debug.Health` over go-micro's RPC for mucp
    /// nodes, a TCP connect for the others (no answer makes a node stale), e.g. 15s, 500ms,
    /// 1m; 0 turns checking off.
    #[arg(long, env = "MUSTER_PROBE_INTERVAL", default_value = "15s", value_parser = parse_duration)]
    pub probe_interval: Duration,

    /// How long departed nodes (expired, evicted, deregistered) stay visible as tombstones.
    #[arg(long, env = "MUSTER_TOMBSTONE_TTL", default_value = "10m", value_parser = parse_duration)]
    pub tombstone_ttl: Duration,

    /// How often the watch websocket sends a heartbeat; a client silent for three intervals is
    /// disconnected.
    #[arg(long, env = "MUSTER_HEARTBEAT_INTERVAL", default_value = "15s", value_parser = parse_duration)]
    pub heartbeat_interval: Duration,

    /// Websocket watchers (`/api/watch`, open pages) served at once; more are refused with a
    /// 503 until one leaves. Each holds its own send buffer while a snapshot goes out.
    #[arg(long, env = "MUSTER_MAX_WATCHERS", default_value_t = 64)]
    pub max_watchers: usize,

    /// Memory registry only: a JSON file of registrations (`[{"name":…, "nodes":[…], "ttl":…}]`)
    /// loaded at start as if other processes had made them (demos, tests).
    #[arg(long, env = "MUSTER_MEMORY_SEED")]
    pub memory_seed: Option<PathBuf>,

    /// Do not advertise the console on the LAN (by default it is a standard DNS-SD service,
    /// `Muster on <host>:<port>._http._tcp.local.` with TXT `path=/` and `version=`, as Bonjour
    /// browsers and avahi-browse list them).
    #[arg(long, env = "MUSTER_NO_ADVERTISE")]
    pub no_advertise: bool,

    /// Mirror every node of the registry as a standard DNS-SD instance under
    /// `_micro._tcp.local.` (TXT `service=`, `version=`, `node=` and the node metadata),
    /// following the registry live; nodes need an IP address on a chosen interface's subnet.
    #[arg(long, env = "MUSTER_BRIDGE_DNSSD")]
    pub bridge_dnssd: bool,

    /// Do not browse the LAN's standard DNS-SD services (the LAN page and `/api/lan`).
    #[arg(long, env = "MUSTER_NO_LAN")]
    pub no_lan: bool,

    /// Most DNS records the standard-DNS-SD daemon may cache (every record a LAN peer sends
    /// that is not plainly for another querier is kept until its sender's TTL, and the crate
    /// has no bound of its own: ~1.5 KiB each). Past it the daemon is restarted empty
    /// (advertisement and mirrors announced again, the LAN browsed again). `--no-advertise
    /// --no-lan` (without `--bridge-dnssd`) does not start the daemon at all.
    #[arg(long, env = "MUSTER_DNSSD_MAX_RECORDS", default_value_t = 20_000)]
    pub dnssd_max_records: u64,

    /// Directory holding the built front end (the wasm bundle, CSS and public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// The HTTP edge: names, proxies, HTTPS, connection bounds.
    #[command(flatten)]
    pub edge: EdgeArgs,
}

/// How the console meets its clients (README, "Security").
#[derive(Debug, Clone, Args)]
pub struct EdgeArgs {
    /// Another name the console answers to, comma-separated or repeated (beside its listen
    /// address and localhost); requests for any other Host are refused (DNS rebinding).
    #[arg(long, env = "MUSTER_ALLOWED_HOST", value_delimiter = ',')]
    pub allowed_host: Vec<String>,

    /// Address of a reverse proxy whose X-Forwarded-Proto, -Host and -For are believed
    /// (comma-separated or repeated); from anyone else they are ignored.
    #[arg(long, env = "MUSTER_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<IpAddr>,

    /// Serve HTTPS with this PEM certificate chain (needs --tls-key); re-read on SIGHUP and
    /// when the file changes. Session cookies are then Secure and answers carry HSTS.
    #[arg(long, env = "MUSTER_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert.
    #[arg(long, env = "MUSTER_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Also listen for plain HTTP here and redirect every request to the HTTPS console
    /// (needs --tls-cert), e.g. 0.0.0.0:80.
    #[arg(long, env = "MUSTER_REDIRECT_HTTP", requires = "tls_cert")]
    pub redirect_http: Option<SocketAddr>,

    /// How long a client may take to send a request's headers (or a TLS handshake), and the
    /// longest a keep-alive connection stays idle; slower connections are closed (slowloris).
    #[arg(long, env = "MUSTER_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,

    /// Most open connections in all; more are answered 503 and closed.
    #[arg(long, env = "MUSTER_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Most open connections from one client address (trusted proxies excepted).
    #[arg(long, env = "MUSTER_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64)]
    pub max_connections_per_client: usize,
}

impl EtcdArgs {
    /// The first etcd flag given, if any (they mean nothing to another backend).
    pub fn given(&self) -> Option<&'static str> {
        [
            (self.registry_secure, "--registry-secure"),
            (self.registry_ca_file.is_some(), "--registry-ca-file"),
            (self.registry_cert_file.is_some(), "--registry-cert-file"),
            (
                self.registry_server_name.is_some(),
                "--registry-server-name",
            ),
            (self.registry_user.is_some(), "--registry-user"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    /// `error` with the etcd setting at fault named by the flag that sets it: the registry
    /// says `tls ca file`, the operator typed `--registry-ca-file`.
    #[cfg(feature = "etcd")]
    pub fn name_flag(&self, error: muster_registry::Error) -> muster_registry::Error {
        use muster_registry::Field;
        let muster_registry::Error::Invalid { field, reason } = error else {
            return error;
        };
        let flag = match field {
            Field::TlsCaFile => "--registry-ca-file",
            Field::TlsCertFile => "--registry-cert-file",
            Field::TlsKeyFile => "--registry-key-file",
            Field::TlsServerName => "--registry-server-name",
            Field::Tls => "--registry-secure / --registry-ca-file",
            Field::Credentials => "--registry-user / --registry-password",
            field => return muster_registry::Error::Invalid { field, reason },
        };
        muster_registry::Error::invalid(Field::named(flag), reason)
    }
}

/// The registry backends the console can embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegistryKind {
    /// go-micro's zero-configuration mDNS registry on the LAN.
    Mdns,
    /// In-process registry: what is registered through this process only.
    Memory,
    /// go-micro's etcd registry (`/micro/registry/...` keys) at --registry-address.
    #[cfg(feature = "etcd")]
    Etcd,
}

/// Registry commands, as go-micro's `micro` CLI has them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the services in the registry.
    Services,
    /// Show one service: every version with its endpoints and nodes.
    Service {
        /// The service name.
        name: String,
    },
    /// Register a service from a go-micro JSON file and keep it registered (answering
    /// queries) until interrupted, then deregister it (an mDNS goodbye).
    Register {
        /// The service JSON (`{"name":…, "version":…, "nodes":[…]}`); `-` reads stdin.
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Registration TTL, refreshed while running (e.g. 30s).
        #[arg(long, value_parser = parse_duration)]
        ttl: Option<Duration>,
    },
    /// Deregister a node: a goodbye on its behalf.
    Deregister {
        /// The service name.
        name: String,
        /// The node id.
        node_id: String,
    },
    /// Print registry changes as they happen, for every service or one.
    Watch {
        /// Only this service.
        name: Option<String>,
        /// Times in the system's time zone (`TZ`, /etc/localtime) instead of UTC.
        #[arg(long, env = "MUSTER_LOCAL_TIME")]
        local_time: bool,
    },
    /// Call an endpoint of a service over go-micro's RPC and print the reply JSON (a go-micro
    /// error goes to stderr, exit status 1), like `micro call`.
    Call {
        /// The service name.
        name: String,
        /// The endpoint, `Handler.Method`.
        endpoint: String,
        /// The request JSON (default `{}`); `-` reads it from stdin.
        request: Option<String>,
        /// Call this node (by id) rather than the first that speaks mucp over HTTP.
        #[arg(long)]
        node: Option<String>,
        /// How long the call may take (e.g. 5s, 500ms).
        #[arg(long, value_parser = parse_duration, default_value = "10s")]
        timeout: Duration,
        /// Context metadata, sent as a header; repeatable.
        #[arg(long = "metadata", value_name = "KEY=VALUE", value_parser = parse_pair)]
        metadata: Vec<(String, String)>,
    },
    /// Ask every node of a service (or one) `Debug.Health`; exit status 1 when one is failing
    /// or unreachable.
    Health {
        /// The service name.
        name: String,
        /// Only this node (by id).
        #[arg(long)]
        node: Option<String>,
    },
}

/// Reads `key=value`.
pub fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

/// Reads `15s`, `500ms`, `10m`, `1h`, or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 15s, 500ms, 10m"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        other => return Err(format!("unknown unit {other:?}: use ms, s, m or h")),
    };
    if !seconds.is_finite() || !(0.0..=31_536_000.0).contains(&seconds) {
        return Err(format!("{text:?} is out of range (0 to 365 days)"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn etcd_flags_come_in_the_pairs_they_need() {
        let cli = Cli::try_parse_from([
            "muster",
            "--registry-ca-file",
            "ca.pem",
            "--registry-user",
            "root",
            "--registry-password-file",
            "password",
        ])
        .unwrap();
        assert_eq!(cli.registry.etcd.given(), Some("--registry-ca-file"));
        assert_eq!(
            Cli::try_parse_from(["muster"])
                .unwrap()
                .registry
                .etcd
                .given(),
            None
        );
        for lonely in [
            &["--registry-cert-file", "client.pem"][..],
            &["--registry-key-file", "client-key.pem"],
            &["--registry-password", "secret"],
            &[
                "--registry-user",
                "u",
                "--registry-password",
                "p",
                "--registry-password-file",
                "f",
            ],
        ] {
            let args = ["muster"].iter().chain(lonely);
            assert!(
                Cli::try_parse_from(args).is_err(),
                "{lonely:?} was accepted"
            );
        }
    }

    #[test]
    fn defaults_and_subcommands() {
        let cli = Cli::try_parse_from(["muster"]).unwrap();
        assert_eq!(cli.registry.registry, RegistryKind::Mdns);
        assert_eq!(cli.serve.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(cli.serve.probe_interval, Duration::from_secs(15));
        assert_eq!(cli.serve.tombstone_ttl, Duration::from_secs(600));
        assert!(cli.command.is_none());
        // DNS-SD: advertising and LAN browsing on, the bridge off.
        assert!(!cli.serve.no_advertise && !cli.serve.no_lan && !cli.serve.bridge_dnssd);
        let cli = Cli::try_parse_from(["muster", "--no-advertise", "--no-lan", "--bridge-dnssd"])
            .unwrap();
        assert!(cli.serve.no_advertise && cli.serve.no_lan && cli.serve.bridge_dnssd);
        let cli = Cli::try_parse_from([
            "muster",
            "service",
            "go.micro.srv.greeter",
            "--json",
            "--registry",
            "memory",
        ])
        .unwrap();
        assert!(cli.json);
        assert_eq!(cli.registry.registry, RegistryKind::Memory);
        assert!(
            matches!(cli.command, Some(Command::Service { name }) if name == "go.micro.srv.greeter")
        );
    }
}
