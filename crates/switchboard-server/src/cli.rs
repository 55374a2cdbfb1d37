//! The command line: `serve`, `migrate` and `user` administration.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use switchboard_bus::LocalBus;
use switchboard_service::Services;

use crate::config::{Config, LogFormat, Source};
use crate::serve::{App, open_store};

/// Switchboard: a self-hosted messenger server. One binary, one port for gRPC, WebSocket
/// and HTTP, an embedded SQLite database by default.
///
/// Configuration comes in layers: built-in defaults, then the TOML file given with
/// --config (or SWITCHBOARD_CONFIG), then SWITCHBOARD_* environment variables
/// (SWITCHBOARD_LISTEN, SWITCHBOARD_DATA_DIR, SWITCHBOARD_SERVICE__MAX_MESSAGE_CHARS, ...),
/// then these flags. See the README for every key.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, propagate_version = true)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory for the database and other state (created if missing)
    /// [default: switchboard-data] [env: SWITCHBOARD_DATA_DIR].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Log format [default: text] [env: SWITCHBOARD_LOG_FORMAT].
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Store: `sqlite` or a PostgreSQL URL for cluster mode [default: sqlite]
    /// [env: SWITCHBOARD_STORE].
    #[arg(long, global = true)]
    pub store: Option<String>,
    /// Bus: `local` or a NATS URL (`nats://host:4222`) for cluster mode [default: local]
    /// [env: SWITCHBOARD_BUS].
    #[arg(long, global = true)]
    pub bus: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the server until SIGTERM or Ctrl-C, then drains connections.
    Serve(ServeArgs),
    /// Applies pending database migrations and exits.
    Migrate,
    /// Manages accounts directly in the database (works while the server runs).
    #[command(subcommand)]
    User(UserCommand),
    /// Checks or shows the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Shows or rebuilds the message search index (works while the server runs).
    #[command(subcommand)]
    Search(SearchCommand),
    /// Copies the embedded database, consistently, while the server keeps running: the
    /// copy holds everything committed before the backup began.
    Backup {
        /// New or empty directory to write the backup into.
        dest: PathBuf,
    },
    /// Replaces the data directory's database with a backup (the server must be stopped).
    Restore {
        /// Backup directory (or its database file).
        from: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Copies an embedded installation into an empty PostgreSQL database for cluster mode,
    /// then verifies row counts and every conversation's and user's log head (the server
    /// must be stopped).
    Port {
        /// Data directory of the embedded installation.
        #[arg(long)]
        from: PathBuf,
        /// PostgreSQL URL to copy into (postgres://user@host/db); its database must be empty.
        #[arg(long)]
        to: String,
        /// PostgreSQL schema to create the tables in [default: postgres.schema of the
        /// configuration].
        #[arg(long)]
        schema: Option<String>,
    },
}

/// `search` subcommands.
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Prints how far the index is: indexed up to which message, and the backlog.
    Status,
    /// Empties the index and indexes every message again, with a progress bar; searches
    /// find only what is indexed so far until it ends. Run it after changing how text is
    /// split into words, or if the index is damaged.
    Rebuild,
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Loads and validates the configuration (file, environment, flags); exits non-zero
    /// with every problem named when something is wrong.
    Check,
    /// Prints the effective configuration as TOML, each value with where it came from
    /// (default, file, environment, flag); passwords in URLs are redacted.
    Show,
    /// Prints the reference of every setting (key, default, environment variable) as
    /// Markdown; docs/CONFIGURATION.md is this output.
    Reference,
}

/// Flags of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address for gRPC, WebSocket and HTTP, for example 127.0.0.1:8080
    /// [default: 0.0.0.0:8080] [env: SWITCHBOARD_LISTEN].
    #[arg(long)]
    pub listen: Option<String>,
}

/// Account administration.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates an account.
    Add {
        /// Username.
        username: String,
        /// Read the password as one line of standard input instead of prompting for it
        /// (passwords are never taken from the command line, where `ps` would show them).
        #[arg(long)]
        password_stdin: bool,
        /// Display name.
        #[arg(long, default_value = "")]
        display_name: String,
        /// Make the account a server administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Lists accounts.
    List,
    /// Sets an account's password (ends all its sessions).
    SetPassword {
        /// Username.
        username: String,
        /// Read the new password as one line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disables an account (ends all its sessions), or re-enables it with --enable.
    Disable {
        /// Username.
        username: String,
        /// Re-enable instead.
        #[arg(long)]
        enable: bool,
    },
}

/// A password from standard input (`--password-stdin`) or typed at a prompt that does not
/// echo it; never from the command line.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let p = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("read password")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("password: ").context("read password")?
    } else {
        bail!("no terminal to prompt for the password on: pipe it with --password-stdin");
    };
    if p.is_empty() {
        bail!("no password given");
    }
    Ok(p)
}

/// The use cases on the configured store without a server, with the data directory's
/// lock to hold while they are used.
async fn offline_services(config: &Config) -> anyhow::Result<(Services, Option<crate::datadir::DataDirLock>)> {
    let (store, lock) = open_store(config).await?;
    let blobs = crate::serve::open_blobs(config)?;
    // A command's process delivers no scheduled messages: it has no bus to announce them on.
    let mut service = config.service.clone();
    service.scheduled_poll_ms = 0;
    Ok((Services::new(store, Arc::new(LocalBus::new()), blobs, service)?, lock))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config(ConfigCommand::Reference) = &cli.command {
        print!("{}", crate::config::reference()?);
        return Ok(());
    }
    let (mut config, mut sources) = Config::load_with_sources(cli.config.as_deref(), std::env::vars())?;
    let mut flag = |key: &str| {
        sources.insert(key.to_owned(), Source::Flag);
    };
    if let Some(d) = cli.data_dir {
        config.data_dir = d;
        flag("data_dir");
    }
    if let Some(f) = cli.log_format {
        config.log_format = f;
        flag("log_format");
    }
    if let Some(s) = cli.store {
        config.store = s;
        flag("store");
    }
    if let Some(b) = cli.bus {
        config.bus = b;
        flag("bus");
    }
    if let Command::Serve(ServeArgs { listen: Some(l) }) = &cli.command {
        config.listen = l.clone();
        flag("listen");
    }
    config.validate()?;
    match &cli.command {
        Command::Config(ConfigCommand::Check) => {
            println!("configuration OK");
            return Ok(());
        }
        Command::Config(ConfigCommand::Show) => {
            print!("{}", crate::config::show(&config, &sources)?);
            return Ok(());
        }
        _ => {}
    }
    crate::logging::init(config.log_format, &config.log_level, config.log_access);
    match cli.command {
        Command::Serve(_) => {
            let listener = tokio::net::TcpListener::bind(&config.listen)
                .await
                .with_context(|| format!("listen on {}", config.listen))?;
            let app = App::new(&config).await?;
            crate::run(listener, app, shutdown_signal()).await
        }
        Command::Migrate => migrate(&config).await,
        Command::User(cmd) => user(cmd, &config).await,
        Command::Search(cmd) => crate::search_index::run(cmd, &config).await,
        Command::Config(_) => Ok(()),
        #[cfg(feature = "sqlite")]
        Command::Backup { dest } => crate::maintenance::backup(&config, &dest).await,
        #[cfg(feature = "sqlite")]
        Command::Restore { from, force } => crate::maintenance::restore(&config, &from, force).await,
        #[cfg(all(feature = "sqlite", feature = "postgres"))]
        Command::Port { from, to, schema } => crate::maintenance::port(&config, &from, &to, schema.as_deref()).await,
        #[cfg(not(feature = "sqlite"))]
        Command::Backup { .. } | Command::Restore { .. } => {
            bail!("this build has no embedded store (built without the `sqlite` feature)")
        }
        #[cfg(not(all(feature = "sqlite", feature = "postgres")))]
        Command::Port { .. } => bail!("`port` needs a build with both the `sqlite` and `postgres` features"),
    }
}

async fn user(cmd: UserCommand, config: &Config) -> anyhow::Result<()> {
    let (services, _lock) = offline_services(config).await?;
    match cmd {
        UserCommand::Add { username, password_stdin, display_name, admin } => {
            let password = read_password(password_stdin)?;
            let u = services.create_account(&username, Some(&password), &display_name, admin, false, None).await?;
            println!("created user {} (id {}){}", u.username, u.id, if admin { " as administrator" } else { "" });
        }
        UserCommand::List => {
            let mut after = None;
            println!("{:>8}  {:<32}  {:<24}  flags", "id", "username", "display name");
            loop {
                let page = services.list_users(after, 500).await?;
                for u in &page {
                    let mut flags = Vec::new();
                    if u.admin {
                        flags.push("admin");
                    }
                    if u.bot {
                        flags.push("bot");
                    }
                    if u.disabled {
                        flags.push("disabled");
                    }
                    println!("{:>8}  {:<32}  {:<24}  {}", u.id, u.username, u.display_name, flags.join(","));
                }
                match page.last() {
                    Some(last) if page.len() == 500 => after = Some(last.id),
                    _ => break,
                }
            }
        }
        UserCommand::SetPassword { username, password_stdin } => {
            let u = services.user_by_username(&username).await?;
            services.set_password(u.id, &read_password(password_stdin)?).await?;
            println!("password of {} changed; its sessions were ended", u.username);
        }
        UserCommand::Disable { username, enable } => {
            let u = services.user_by_username(&username).await?;
            services.set_user_disabled(switchboard_service::Actor::Operator, u.id, !enable).await?;
            println!("{} {}", u.username, if enable { "enabled" } else { "disabled; its sessions were ended" });
        }
    }
    Ok(())
}

/// Brings the configured store's schema up to date.
async fn migrate(config: &Config) -> anyhow::Result<()> {
    match config.store.as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => {
            let _lock = crate::datadir::lock(&config.data_dir, crate::datadir::Access::Shared)?;
            let v = switchboard_store::sqlite::SqliteStore::migrate(&config.database_path())?;
            println!("database {} is at schema version {v}", config.database_path().display());
            Ok(())
        }
        #[cfg(feature = "postgres")]
        url if crate::serve::is_postgres(url) => {
            crate::serve::open_postgres(config).await?;
            println!("postgres database is at schema version {}", switchboard_store::postgres::SCHEMA_VERSION);
            Ok(())
        }
        // A store this build lacks, or an unknown one: opening it says which.
        _ => open_store(config).await.map(|_| ()),
    }
}
