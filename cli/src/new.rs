//! `eventctl new DIR --name SERVICE`: scaffold a standalone service crate.
//!
//! The crate gets its own `schemas/` (one example event, `appointment.requested` v1, and its
//! `topics.json`), the five-line `build.rs` that generates the types, a binary that produces
//! and consumes with settings from the environment, mock-cluster tests that use paths relative
//! to the crate, the generated `create-topics.sh`, a Dockerfile and a README.
//!
//! The files are the templates in `cli/templates/service/`, rendered with minijinja (`*.j2`) or
//! copied as they are. `examples/service-template/` in this repository is exactly what
//! `eventctl new examples/service-template --name service-template --toolkit-path .` writes
//! (a test regenerates and compares it).
//!
//! Dependencies on the toolkit (`pmp-event-runtime`, `pmp-event-codegen`) are either
//! - git dependencies (`--git URL`, default a placeholder to replace), or
//! - path dependencies (`--toolkit-path DIR`), written relative to the new crate.
//!
//! A crate outside the toolkit directory gets an empty `[workspace]` table, so it builds on its
//! own wherever it is; one inside it is meant to be a member of the toolkit's workspace.
//!
//! `--outbox` adds the transactional outbox and inbox on PostgreSQL (`pmp-event-outbox`, see
//! [`OUTBOX_FILES`]): a business table and its migration, a request path that writes the row
//! and stages its event in one transaction, the relay as a task publishing through the robust
//! producer, an inbox consumer (`on_tx`), and a test against a real PostgreSQL
//! (`DATABASE_URL`) and the mock cluster. Without it the output is the same as before the flag
//! existed (the shared templates carry only `{% if outbox %}` blocks).
//!
//! Exit codes: 0 written, 2 usage or I/O error (bad name, directory not empty, not a toolkit).

use std::path::{Component, Path, PathBuf};

use minijinja::{context, Environment};
use pmp_event_codegen::topics::{render_create_topics_sh, TopicCatalog};

/// Placeholder git URL of the toolkit, written when neither `--git` nor `--toolkit-path` is given.
pub const GIT_PLACEHOLDER: &str = "https://git.example.invalid/REPLACE-ME/pmp-events.git";

/// Output path and template source; `*.j2` sources are rendered, others copied.
const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml.j2",
        include_str!("../templates/service/Cargo.toml.j2"),
    ),
    ("build.rs", include_str!("../templates/service/build.rs")),
    ("gitignore", include_str!("../templates/service/gitignore")),
    (
        "Dockerfile.j2",
        include_str!("../templates/service/Dockerfile.j2"),
    ),
    (
        "README.md.j2",
        include_str!("../templates/service/README.md.j2"),
    ),
    (
        "src/lib.rs.j2",
        include_str!("../templates/service/src/lib.rs.j2"),
    ),
    (
        "src/main.rs.j2",
        include_str!("../templates/service/src/main.rs.j2"),
    ),
    (
        "tests/mock_cluster.rs.j2",
        include_str!("../templates/service/tests/mock_cluster.rs.j2"),
    ),
    (
        "tests/topics.rs.j2",
        include_str!("../templates/service/tests/topics.rs.j2"),
    ),
    (
        "schemas/topics.json",
        include_str!("../templates/service/schemas/topics.json"),
    ),
    (
        "schemas/events/appointment.requested/v1.json",
        include_str!("../templates/service/schemas/events/appointment.requested/v1.json"),
    ),
];

/// Written in addition to [`FILES`] with `--outbox`: the service's database module, the
/// subcommands that use it, its migration and its test on PostgreSQL.
const OUTBOX_FILES: &[(&str, &str)] = &[
    (
        "src/db.rs.j2",
        include_str!("../templates/service/src/db.rs.j2"),
    ),
    (
        "src/outbox_commands.rs.j2",
        include_str!("../templates/service/src/outbox_commands.rs.j2"),
    ),
    (
        "migrations/0001_appointments.sql",
        include_str!("../templates/service/migrations/0001_appointments.sql"),
    ),
    (
        "tests/outbox.rs.j2",
        include_str!("../templates/service/tests/outbox.rs.j2"),
    ),
];

/// Arguments of `eventctl new`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of the new crate (created; must not exist or be empty).
    pub dir: PathBuf,
    /// Service name: the package and binary name (lowercase letters, digits, `-`, `_`).
    #[arg(long)]
    pub name: String,
    /// Use path dependencies on a local checkout of this toolkit.
    #[arg(long, value_name = "DIR", conflicts_with = "git")]
    pub toolkit_path: Option<PathBuf>,
    /// Git URL of the toolkit for the dependencies (default: a placeholder to replace).
    #[arg(long, value_name = "URL")]
    pub git: Option<String>,
    /// Add the transactional outbox and inbox on PostgreSQL (`pmp-event-outbox`,
    /// `DATABASE_URL`): a business row and its event in one transaction, relayed to Kafka.
    #[arg(long)]
    pub outbox: bool,
}

/// Runs `eventctl new`; returns the exit code.
pub fn run(args: Args) -> i32 {
    match scaffold(&args) {
        Ok(files) => {
            for f in &files {
                println!("created {}", args.dir.join(f).display());
            }
            if args.toolkit_path.is_none() && args.git.is_none() {
                println!(
                    "note: Cargo.toml points at the placeholder {GIT_PLACEHOLDER}; replace it with \
                     the toolkit's repository (or run again with --git URL or --toolkit-path DIR)"
                );
            }
            println!(
                "next: cd {} && cargo test   (see its README.md)",
                args.dir.display()
            );
            if args.outbox {
                println!(
                    "note: tests/outbox.rs needs a PostgreSQL server: set DATABASE_URL (it fails \
                     without one)"
                );
            }
            0
        }
        Err(msg) => {
            eprintln!("eventctl new: {msg}");
            2
        }
    }
}

/// Writes the crate; returns the relative paths written.
fn scaffold(args: &Args) -> Result<Vec<String>, String> {
    check_name(&args.name)?;
    if args.dir.is_file() {
        return Err(format!(
            "{} is a file, expected a directory",
            args.dir.display()
        ));
    }
    if std::fs::read_dir(&args.dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(format!("{} exists and is not empty", args.dir.display()));
    }
    let toolkit = args
        .toolkit_path
        .as_deref()
        .map(|dir| toolkit_dir(dir, args.outbox))
        .transpose()?;
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| format!("cannot create {}: {e}", args.dir.display()))?;
    let crate_dir = args
        .dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", args.dir.display()))?;
    let deps = Dependencies::new(args, toolkit.as_deref(), &crate_dir);
    let ctx = context! {
        name => args.name,
        lib_name => args.name.replace('-', "_"),
        runtime_dep => deps.spec_with_features("runtime", &["http", "logging"]),
        codegen_dep => deps.spec("codegen"),
        toolkit_note => deps.note(),
        standalone => deps.crate_in_toolkit.is_none(),
        in_toolkit => deps.crate_in_toolkit.is_some(),
        crate_in_context => deps.crate_in_toolkit.clone().unwrap_or_else(|| ".".to_owned()),
        outbox => args.outbox,
        outbox_dep => deps.spec("outbox"),
    };
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    let mut written = Vec::new();
    let extra: &[(&str, &str)] = if args.outbox { OUTBOX_FILES } else { &[] };
    for (source, text) in FILES.iter().chain(extra) {
        let (out, content) = match source.strip_suffix(".j2") {
            Some(out) => {
                let rendered = env
                    .render_str(text, &ctx)
                    .map_err(|e| format!("template {source}: {e}"))?;
                (out, rendered)
            }
            None if *source == "gitignore" => (".gitignore", (*text).to_owned()),
            None => (*source, (*text).to_owned()),
        };
        write(&crate_dir, out, &content)?;
        written.push(out.to_owned());
    }
    // The topic setup script, rendered from the topics.json just written (the crate's tests
    // keep it current).
    let topics = crate_dir.join("schemas/topics.json");
    let catalog = TopicCatalog::load(&topics).map_err(|e| e.to_string())?;
    write(
        &crate_dir,
        "create-topics.sh",
        &render_create_topics_sh(&catalog, "schemas/topics.json"),
    )?;
    written.push("create-topics.sh".to_owned());
    Ok(written)
}

fn write(root: &Path, rel: &str, content: &str) -> Result<(), String> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(&path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A Cargo package name that is also a usable binary and library name.
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    if starts_with_letter
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(format!(
            "--name `{name}`: use lowercase letters, digits, `-` and `_`, starting with a letter"
        ))
    }
}

/// Where the toolkit's crates come from.
struct Dependencies {
    /// `path = ".."` relative to the crate, or `git = ".."`.
    source: Source,
    /// The crate's path inside the toolkit directory, when it is inside it.
    crate_in_toolkit: Option<String>,
}

enum Source {
    Path(String),
    Git(String),
}

impl Dependencies {
    fn new(args: &Args, toolkit: Option<&Path>, crate_dir: &Path) -> Dependencies {
        let Some(toolkit) = toolkit else {
            let url = args
                .git
                .clone()
                .unwrap_or_else(|| GIT_PLACEHOLDER.to_owned());
            return Dependencies {
                source: Source::Git(url),
                crate_in_toolkit: None,
            };
        };
        let crate_in_toolkit = crate_dir
            .strip_prefix(toolkit)
            .ok()
            .map(|p| slash_path(p.components()));
        Dependencies {
            source: Source::Path(relative(crate_dir, toolkit)),
            crate_in_toolkit,
        }
    }

    /// The dependency table of the toolkit crate in directory `member`.
    fn spec(&self, member: &str) -> String {
        match &self.source {
            Source::Path(rel) if rel.is_empty() => format!("{{ path = \"{member}\" }}"),
            Source::Path(rel) => format!("{{ path = \"{rel}/{member}\" }}"),
            Source::Git(url) => format!("{{ git = \"{url}\" }}"),
        }
    }

    /// [`spec`](Self::spec) with cargo features enabled.
    fn spec_with_features(&self, member: &str, features: &[&str]) -> String {
        let list: Vec<String> = features.iter().map(|f| format!("\"{f}\"")).collect();
        let spec = self.spec(member);
        let inner = spec.trim_end_matches(" }");
        format!("{inner}, features = [{}] }}", list.join(", "))
    }

    fn note(&self) -> &'static str {
        match self.source {
            Source::Path(_) => "path dependencies on a local checkout",
            Source::Git(_) => "git dependencies; pin a `rev` or `tag` for reproducible builds",
        }
    }
}

/// The canonical toolkit directory, after checking it holds the crates a service depends on
/// (`outbox` too with `--outbox`).
fn toolkit_dir(toolkit: &Path, outbox: bool) -> Result<PathBuf, String> {
    if toolkit.is_file() {
        return Err(format!(
            "--toolkit-path {} is a file, expected a directory",
            toolkit.display()
        ));
    }
    let members: &[&str] = if outbox {
        &["runtime", "codegen", "outbox"]
    } else {
        &["runtime", "codegen"]
    };
    for member in members {
        let manifest = toolkit.join(member).join("Cargo.toml");
        if !manifest.is_file() {
            return Err(format!(
                "--toolkit-path {}: {} not found (expected a checkout of the pmp-events toolkit)",
                toolkit.display(),
                manifest.display()
            ));
        }
    }
    toolkit
        .canonicalize()
        .map_err(|e| format!("{}: {e}", toolkit.display()))
}

/// `to` relative to `from`, `/`-separated (both absolute and canonical).
fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = (common..from.len()).map(|_| "..".to_owned());
    let downs = to[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

fn slash_path<'a>(components: impl Iterator<Item = Component<'a>>) -> String {
    components
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_between_directories() {
        assert_eq!(relative(Path::new("/a/b/c"), Path::new("/a")), "../..");
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/x/y")), "../x/y");
        assert_eq!(relative(Path::new("/a"), Path::new("/a")), "");
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("patient-service").is_ok());
        assert!(check_name("svc_2").is_ok());
        for bad in ["", "Patient", "2svc", "a b", "a/b", "ä"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
