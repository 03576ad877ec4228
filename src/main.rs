use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use ats_operator::controller::leadership::LeaderConfig;
use ats_operator::controller::policy::CustomEndpoints;
use ats_operator::ledger::{ExportFormat, Ledger, LedgerError};
use ats_operator::model::VendorKind;
use ats_operator::{api, controller, demo, sandbox};

#[derive(Parser)]
#[command(
    name = "ats-operator",
    version,
    about = "Runs tenants' ATS integrations with explainable AI scoring"
)]
struct Cli {
    /// Log format: text or json.
    #[arg(long, global = true, env = "ATS_LOG_FORMAT", default_value = "text")]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller against the cluster of the current kubeconfig or service account.
    Run(Box<RunArgs>),
    /// The audit ledger, offline: export a tenant's decisions for an auditor.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Print the CRDs as YAML.
    Crds,
    /// Distil the static embedding table from all-MiniLM-L6-v2 and write it
    /// into the model directory, so an operator reading the directory
    /// read-only (`--semantic-engine static`) does not distil it at each start.
    DistillModel {
        #[arg(long, env = "ATS_MODEL_DIR")]
        model_dir: PathBuf,
    },
    /// Serve a vendor sandbox with generated data.
    Sandbox {
        #[arg(long, default_value = "greenhouse")]
        vendor: String,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value_t = 200)]
        applications: usize,
        #[arg(long, default_value_t = 20)]
        jobs: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// `REQUESTS/SECONDS` such as `50/30`, or `off`.
        #[arg(long, default_value = "50/30")]
        rate_limit: String,
        /// Serve every resume as plain text instead of PDF, DOCX and HTML files.
        #[arg(long)]
        text_resumes: bool,
        /// Percent of candidates whose resume file cannot be read (scans, damaged files).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=100))]
        unreadable_resumes: u8,
        /// Time scale of webhook retries and timeouts: 1 is the vendor's
        /// schedule, 0.001 turns Greenhouse's 15 hours into under a minute.
        #[arg(long, default_value_t = 1.0)]
        webhook_time_scale: f64,
    },
    /// Start a local control plane, a sandbox and the operator; print status and scores.
    Demo {
        #[arg(long, default_value_t = 60)]
        applications: usize,
        /// Keep everything running after printing, until Ctrl-C.
        #[arg(long)]
        keep: bool,
    },
}

/// Where the audit ledger lives (shared by `run` and `ledger`).
#[derive(Args, Clone, Debug)]
struct LedgerArgs {
    /// `sqlite` (a file on one volume) or `postgres` (shared by replicas).
    #[arg(long, env = "ATS_LEDGER_BACKEND", default_value = "sqlite")]
    ledger_backend: String,
    /// SQLite file of the audit ledger (`--ledger-backend sqlite`).
    #[arg(
        long,
        env = "ATS_LEDGER_PATH",
        default_value = "/var/lib/ats-operator/ledger.db"
    )]
    ledger_path: PathBuf,
    /// PostgreSQL connection string (`--ledger-backend postgres`); read it from
    /// the environment (a Secret), never from the command line.
    #[arg(long, env = "ATS_LEDGER_DATABASE_URL", hide_env_values = true)]
    ledger_database_url: Option<String>,
    /// How long decisions are kept, in days (default three years); pruned at
    /// start and daily. 0 keeps everything.
    #[arg(long, env = "ATS_LEDGER_RETENTION_DAYS", default_value_t = 1095)]
    ledger_retention_days: u32,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    ledger: LedgerArgs,
    /// Watch only this namespace (default: all).
    #[arg(long, env = "ATS_WATCH_NAMESPACE")]
    namespace: Option<String>,
    /// Elect a leader among replicas by a Lease: only the leader syncs and writes.
    #[arg(long, env = "ATS_LEADER_ELECT", default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,
    #[arg(long, env = "ATS_LEASE_NAME", default_value = "ats-operator-leader")]
    lease_name: String,
    /// Namespace of the Lease (default: POD_NAMESPACE, else the watched namespace, else `default`).
    #[arg(long, env = "ATS_LEASE_NAMESPACE")]
    lease_namespace: Option<String>,
    /// Seconds a Lease holds without renewal; a standby takes over after it.
    #[arg(long, default_value_t = 15)]
    lease_duration: u64,
    /// Seconds without a seen renewal after which the leader stops writing.
    #[arg(long, default_value_t = 10)]
    renew_deadline: u64,
    /// Let connections reach loopback, private, link-local and metadata addresses
    /// (sandboxes and tests). Off by default: tenants choose their URLs.
    #[arg(long, env = "ATS_ALLOW_PRIVATE_ENDPOINTS")]
    allow_private_endpoints: bool,
    /// Namespaces (a label selector, e.g. `ats.dev/custom-endpoints=true`; `""`
    /// for all) whose connections may set a `baseUrl`/`tokenUrl` other than
    /// the vendor's own hosts. Unset: none may.
    #[arg(long, env = "ATS_CUSTOM_ENDPOINT_NAMESPACES")]
    custom_endpoint_namespaces: Option<String>,
    /// Resume download hosts beyond each vendor's own, comma separated
    /// (`files.example.com,*.cdn.example.com`); https only.
    #[arg(long, env = "ATS_RESUME_DOWNLOAD_HOSTS", default_value = "")]
    resume_download_hosts: String,
    /// Reconcile only ats.dev resources whose labels match this selector (a
    /// shard: e.g. `ats.dev/shard=a` here and `!ats.dev/shard` in the main one).
    #[arg(long, env = "ATS_WATCH_LABEL_SELECTOR")]
    watch_label_selector: Option<String>,
    /// Own only the resources labelled `ats.dev/shard=NAME` (label a tenant's
    /// syncs, connections and profiles alike), under the Lease
    /// `<lease-name>-NAME`; `default` owns the unlabelled ones. Unset: all.
    #[arg(long, env = "ATS_SHARD")]
    shard: Option<String>,
    /// Syncs running at the same time, across all tenants.
    #[arg(long, env = "ATS_MAX_CONCURRENT_SYNCS", default_value_t = controller::DEFAULT_MAX_CONCURRENT_SYNCS)]
    max_concurrent_syncs: usize,
    /// The operator's HTTP port: `/metrics`, `/healthz`, `/readyz` (and webhooks).
    #[arg(long, env = "ATS_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: SocketAddr,
    /// Directory of all-MiniLM-L6-v2 (config.json, tokenizer.json,
    /// model.safetensors; scripts/model.sh fetches it) for profiles with
    /// `semantic: true`. Read at start; nothing is ever downloaded. Unset:
    /// such profiles score without the semantic component and say so.
    #[arg(long, env = "ATS_MODEL_DIR")]
    model_dir: Option<PathBuf>,
    /// How the semantic component embeds text: `static`, a table distilled
    /// from the model (fast; written to the model directory once when it is
    /// writable, else distilled at each start, about a minute of CPU), or
    /// `transformer`, the model itself (slower, better on paraphrases).
    #[arg(long, env = "ATS_SEMANTIC_ENGINE", value_enum, default_value_t)]
    semantic_engine: ats_operator::scoring::semantic::EngineKind,
    /// Webhook deliveries a sync may hold unprocessed before new ones are
    /// answered 503 (the vendor retries).
    #[arg(long, env = "ATS_WEBHOOK_MAX_PENDING", default_value_t = controller::webhooks::DEFAULT_MAX_PENDING)]
    webhook_max_pending: u32,
    /// Largest webhook body accepted, in bytes (413 above).
    #[arg(long, env = "ATS_WEBHOOK_BODY_LIMIT", default_value_t = controller::webhooks::DEFAULT_BODY_LIMIT)]
    webhook_body_limit: usize,
    /// Lever deliveries whose `triggeredAt` is further than this from now
    /// are refused as stale (an interval such as `5m`; at least `5s`).
    /// Lever's retries keep the first `triggeredAt`: a longer window lets
    /// more of them through, and captured deliveries replay longer.
    #[arg(long, env = "ATS_WEBHOOK_LEVER_WINDOW", default_value = "5m", value_parser = parse_window)]
    webhook_lever_window: std::time::Duration,
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Stream a tenant's decisions (no personal data) to stdout.
    Export {
        #[command(flatten)]
        ledger: LedgerArgs,
        /// The tenant's namespace.
        #[arg(long)]
        namespace: String,
        /// Only decisions at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// `csv` or `jsonl`.
        #[arg(long, default_value = "jsonl")]
        format: String,
    },
}

fn init_tracing(format: &str, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only on a terminal: a Pod's log is a file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn parse_window(s: &str) -> Result<std::time::Duration, String> {
    ats_operator::sync::schedule::parse_interval(s.trim())
        .filter(|d| {
            *d >= std::time::Duration::from_secs(5) && *d <= std::time::Duration::from_secs(86_400)
        })
        .ok_or_else(|| format!("{s:?} is not an interval from 5s to 24h, such as 5m"))
}

fn parse_rate_limit(s: &str) -> Result<Option<(u32, std::time::Duration)>, String> {
    if s == "off" {
        return Ok(None);
    }
    let (n, secs) = s
        .split_once('/')
        .ok_or_else(|| format!("--rate-limit {s:?}: expected REQUESTS/SECONDS or off"))?;
    let n: u32 = n
        .parse()
        .map_err(|_| format!("--rate-limit {s:?}: bad request count"))?;
    let secs: u64 = secs
        .parse()
        .map_err(|_| format!("--rate-limit {s:?}: bad seconds"))?;
    Ok(Some((n, std::time::Duration::from_secs(secs))))
}

/// jemalloc: many tenants' syncs allocate and free page-sized buffers on a
/// few threads, which glibc's malloc fragments into a larger resident set
/// that it never returns (measured in `benches/tenants.rs`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Freed memory goes back to the system within a second or so (a background
/// thread purges), so a sync's peak is not kept until the next one.
/// `_RJEM_MALLOC_CONF` in the environment still overrides it.
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds => {}
        // The demo prints its own story; logs would drown it.
        Command::Demo { .. } => init_tracing(&cli.log_format, "warn,kube_client=error"),
        // stdout carries the export: logs go to stderr.
        Command::Ledger { .. } => tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
            )
            .with_writer(std::io::stderr)
            .init(),
        _ => init_tracing(&cli.log_format, "info,kube=warn,hyper=warn"),
    }
    let result: Result<(), String> = match cli.command {
        Command::Crds => api::crds_yaml()
            .map(|y| print!("{y}"))
            .map_err(|e| e.to_string()),
        Command::Run(args) => run_command(*args).await,
        Command::DistillModel { model_dir } => distill_command(&model_dir),
        Command::Ledger {
            command:
                LedgerCommand::Export {
                    ledger,
                    namespace,
                    since,
                    format,
                },
        } => export_command(ledger, &namespace, since.as_deref(), &format).await,
        Command::Sandbox {
            vendor,
            listen,
            applications,
            jobs,
            seed,
            rate_limit,
            text_resumes,
            unreadable_resumes,
            webhook_time_scale,
        } => {
            let base = sandbox::SandboxOptions {
                resumes: sandbox::documents::ResumeRule {
                    documents: !text_resumes,
                    unreadable_percent: unreadable_resumes,
                },
                webhook_time_scale,
                ..Default::default()
            };
            serve_sandbox(&vendor, listen, applications, jobs, seed, &rate_limit, base).await
        }
        Command::Demo { applications, keep } => demo::run(applications, keep)
            .await
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The replica's identity: the Pod name, else the host name and process id.
fn identity() -> String {
    std::env::var("POD_NAME").unwrap_or_else(|_| {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "ats-operator".into());
        format!("{host}-{}", std::process::id())
    })
}

async fn run_command(args: RunArgs) -> Result<(), String> {
    let shard = args.shard.clone().filter(|s| !s.trim().is_empty());
    if let Some(s) = &shard {
        controller::shard::validate(s)?;
    }
    let leader = args.leader_elect.then(|| {
        let ns = args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .or_else(|| args.namespace.clone())
            .unwrap_or_else(|| "default".into());
        let lease = controller::shard::lease_name(&args.lease_name, shard.as_deref());
        let mut cfg = LeaderConfig::new(lease, ns, identity());
        cfg.lease_duration = std::time::Duration::from_secs(args.lease_duration);
        cfg.renew_deadline = std::time::Duration::from_secs(args.renew_deadline);
        cfg
    });
    let custom_endpoints = match args.custom_endpoint_namespaces.as_deref().map(str::trim) {
        None => CustomEndpoints::Nowhere,
        Some("") => CustomEndpoints::Everywhere,
        Some(sel) => CustomEndpoints::Matching(sel.to_string()),
    };
    let download_hosts = controller::policy::parse_hosts(&args.resume_download_hosts)?;
    // A model asked for but unreadable stops the start: better than scores
    // silently lacking the component.
    let semantic = match args.model_dir.as_deref() {
        Some(dir) => {
            let scorer =
                ats_operator::scoring::semantic::SemanticScorer::load(dir, args.semantic_engine)
                    .map_err(|e| format!("--model-dir: {e}"))?;
            tracing::info!(model = scorer.model_id(), "semantic model loaded");
            Some(Arc::new(scorer))
        }
        None => None,
    };
    let opts = controller::Options {
        namespace: args.namespace,
        leader,
        max_concurrent_syncs: args.max_concurrent_syncs.max(1),
        allow_private_endpoints: args.allow_private_endpoints,
        custom_endpoints,
        download_hosts,
        watch_label_selector: args.watch_label_selector.filter(|s| !s.trim().is_empty()),
        shard,
        metrics_addr: Some(args.metrics_addr),
        semantic,
        webhook_max_pending: args.webhook_max_pending,
        webhook_body_limit: args.webhook_body_limit,
        webhook_lever_window: args.webhook_lever_window,
    };
    run(&args.ledger, opts).await
}

/// Writes the static table next to the model (or says it is already there).
fn distill_command(dir: &std::path::Path) -> Result<(), String> {
    use ats_operator::scoring::semantic::{Embedder, static_model};
    let embedder = Embedder::load(dir).map_err(|e| format!("--model-dir: {e}"))?;
    let (table, distilled) = static_model::StaticEmbedder::load_or_distill(dir, &embedder)
        .map_err(|e| format!("distilling: {e}"))?;
    let source = embedder.model_id().rsplit(':').next().unwrap_or_default();
    let path = static_model::table_path(dir, source);
    if !path.is_file() {
        return Err(format!("{}: could not be written", path.display()));
    }
    println!(
        "{} {} ({})",
        if distilled { "wrote" } else { "kept" },
        path.display(),
        table.model_id()
    );
    Ok(())
}

/// Opens the ledger the flags name, migrating its schema. Neither the URL nor
/// its password ever reaches a message: errors name the backend only.
async fn open_ledger(args: &LedgerArgs) -> Result<Ledger, String> {
    match args.ledger_backend.as_str() {
        "sqlite" => Ledger::open(&args.ledger_path)
            .map_err(|e| format!("opening ledger {}: {e}", args.ledger_path.display())),
        "postgres" => {
            let url = args
                .ledger_database_url
                .as_deref()
                .filter(|u| !u.trim().is_empty())
                .ok_or(
                    "--ledger-backend postgres needs a connection string: set \
                     ATS_LEDGER_DATABASE_URL (from a Secret) or --ledger-database-url",
                )?;
            Ledger::connect_postgres(url)
                .await
                .map_err(|e| format!("opening the PostgreSQL ledger: {e}"))
        }
        other => Err(format!(
            "--ledger-backend {other:?}: use sqlite or postgres"
        )),
    }
}

/// `ledger export`: streams the namespace's decisions to stdout.
async fn export_command(
    ledger: LedgerArgs,
    namespace: &str,
    since: Option<&str>,
    format: &str,
) -> Result<(), String> {
    // Arguments first: a typo should not wait for a database.
    let format: ExportFormat = format.parse().map_err(|e: LedgerError| e.to_string())?;
    let since = since
        .map(ats_operator::ledger::export::parse_since)
        .transpose()
        .map_err(|e| e.to_string())?;
    let ledger = open_ledger(&ledger).await?;
    let rows = ledger.export(namespace, since);
    let n = ats_operator::ledger::export::write_rows(rows, format, std::io::stdout().lock())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(namespace, decisions = n, "ledger exported");
    Ok(())
}

async fn run(ledger_args: &LedgerArgs, opts: controller::Options) -> Result<(), String> {
    if let Some(l) = &opts.leader {
        l.validate()?;
    }
    let ledger = Arc::new(open_ledger(ledger_args).await?);
    // Retention runs on every replica, leader or not: pruning is idempotent,
    // and a standby's own SQLite file needs it as much.
    tokio::spawn(ats_operator::ledger::retention::prune_periodically(
        ledger.clone(),
        ledger_args.ledger_retention_days,
        ats_operator::ledger::retention::PRUNE_EVERY,
    ));
    let client = kube::Client::try_default()
        .await
        .map_err(|e| format!("connecting to Kubernetes: {e}"))?;
    if let CustomEndpoints::Matching(sel) = &opts.custom_endpoints {
        controller::policy::check_selector(&client, sel).await?;
    }
    controller::run(client, ledger, opts, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn serve_sandbox(
    vendor: &str,
    listen: SocketAddr,
    applications: usize,
    jobs: usize,
    seed: u64,
    rate_limit: &str,
    base: sandbox::SandboxOptions,
) -> Result<(), String> {
    let kind: VendorKind = serde_json::from_value(serde_json::Value::String(vendor.to_string()))
        .map_err(|_| format!("--vendor {vendor:?}: use greenhouse, lever or workable"))?;
    let opts = sandbox::SandboxOptions {
        seed,
        jobs,
        applications,
        rate_limit: parse_rate_limit(rate_limit)?,
        ..base
    };
    let running = sandbox::start(kind, listen, opts)
        .await
        .map_err(|e| e.to_string())?;
    println!("{kind} sandbox");
    println!("  base URL:  {}", running.base_url);
    if !running.token_url.is_empty() {
        println!("  token URL: {}", running.token_url);
    }
    println!(
        "  credentials and control API: GET {}/_sandbox/credentials",
        running.base_url
    );
    shutdown_signal().await;
    Ok(())
}
