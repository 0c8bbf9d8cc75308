//! The static HTML event catalog (`eventctl docs --out DIR`).
//!
//! # Output
//!
//! ```text
//! DIR/index.html                         event types by topic and by service, search box, diagram
//! DIR/events/<type>.v<N>.html            one page per event type and version
//! DIR/topics/<topic>.html                one page per topic (event types, DLQ, config)
//! DIR/services.svg                       the services → topics → services diagram (also inline)
//! DIR/style.css, DIR/search.js           no CDN, no web fonts, no network
//! ```
//!
//! Links are relative, so the site opens from `file://` and from any static web server.
//! Pages are rendered with minijinja (auto-escaping on for `.html` templates); the only
//! unescaped insertion is the SVG, which [`svg`] builds from escaped text. Output is
//! deterministic. Accessibility: one `h1` per page, headings in order, a skip link, a
//! labelled search box (`/` focuses it, `Enter` opens the first match, `Escape` clears, the
//! number of matches is announced in a live region), tables with captions and `th scope`,
//! and the PII badge spelled out for screen readers.

pub mod svg;

use crate::changes::{changes_to, VersionChanges};
use crate::fields::{field_rows, object_rules, FieldRow};
use crate::model::{CatalogError, EventCatalog, EventVersion};
use minijinja::{context, Environment};
use serde::Serialize;
use std::path::Path;

const STYLE: &str = include_str!("assets/style.css");
const SEARCH: &str = include_str!("assets/search.js");

/// An entry of the index (one per event type; links to its latest version).
#[derive(Debug, Serialize)]
struct Entry {
    event_type: String,
    title: String,
    description: String,
    topic: String,
    key: String,
    command: bool,
    versions: Vec<u32>,
    latest: String,
    senders: Vec<String>,
    receivers: Vec<String>,
    pii_fields: Vec<String>,
    search: String,
}

#[derive(Debug, Serialize)]
struct EventPage<'a> {
    id: String,
    event_type: &'a str,
    version: u32,
    title: &'a str,
    description: &'a str,
    command: bool,
    topic: &'a str,
    dlq: String,
    partitions: Option<u32>,
    key: &'a str,
    compatibility: &'a str,
    compatibility_meaning: &'static str,
    rel_path: &'a str,
    versions: Vec<(u32, String)>,
    senders: Vec<String>,
    receivers: Vec<String>,
    fields: Vec<FieldRow>,
    rules: Vec<String>,
    examples: Vec<String>,
    changes: Option<VersionChanges>,
}

fn level_meaning(level: &str) -> &'static str {
    match level {
        "BACKWARD" => "Consumers of this version read data of the previous version.",
        "BACKWARD_TRANSITIVE" => "Consumers of this version read data of every earlier version.",
        "FORWARD" => "Consumers of the previous version read data of this version.",
        "FORWARD_TRANSITIVE" => "Consumers of every earlier version read data of this version.",
        "FULL" => "Backward and forward compatible with the previous version.",
        "FULL_TRANSITIVE" => "Backward and forward compatible with every earlier version.",
        "NONE" => "Not checked: consumers must handle versions separately.",
        _ => "Unknown level.",
    }
}

fn environment() -> Result<Environment<'static>, CatalogError> {
    let mut env = Environment::new();
    env.add_filter("code_spans", code_spans);
    for (name, text) in [
        ("base.html", include_str!("templates/base.html")),
        ("index.html", include_str!("templates/index.html")),
        ("event.html", include_str!("templates/event.html")),
        ("topic.html", include_str!("templates/topic.html")),
    ] {
        env.add_template(name, text)
            .map_err(|e| render_err(name, &e))?;
    }
    Ok(env)
}

/// Escapes `text` for HTML and turns Markdown code spans (`` `x` ``) into `<code>`.
fn code_spans(text: &str) -> minijinja::Value {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let mut out = String::with_capacity(escaped.len() + 32);
    let backticks = escaped.matches('`').count();
    let paired = backticks - backticks % 2;
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 && i <= paired {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            if i > paired {
                // After an unpaired backtick: keep it literally.
                out.push('`');
            }
            out.push_str(part);
        }
    }
    minijinja::Value::from_safe_string(out)
}

fn render_err(page: &str, e: &minijinja::Error) -> CatalogError {
    CatalogError::Render {
        page: page.to_owned(),
        reason: e.to_string(),
    }
}

fn write(path: &Path, text: &str) -> Result<(), CatalogError> {
    let err = |p: &Path, e: std::io::Error| CatalogError::Write {
        path: p.to_path_buf(),
        reason: e.kind().to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| err(path, e))
}

fn names(list: Vec<&pmp_event_codegen::services::Service>) -> Vec<String> {
    list.into_iter().map(|s| s.name.clone()).collect()
}

fn entries(catalog: &EventCatalog) -> Vec<Entry> {
    catalog
        .event_types()
        .into_iter()
        .filter_map(|t| {
            let versions = catalog.versions(t);
            let latest = *versions.last()?;
            let fields = field_rows(&latest.schema, &latest.key);
            let pii_fields: Vec<String> = fields
                .iter()
                .filter(|f| f.pii && f.depth == 0)
                .map(|f| f.name.clone())
                .collect();
            let senders = names(catalog.services.senders(t));
            let receivers = names(catalog.services.receivers(t));
            let search = format!(
                "{t} {} {} {} {} {}",
                latest.title,
                latest.topic,
                senders.join(" "),
                receivers.join(" "),
                fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
            .to_lowercase();
            Some(Entry {
                event_type: t.to_owned(),
                title: latest.title.clone(),
                description: latest.description.clone(),
                topic: latest.topic.clone(),
                key: latest.key.clone(),
                command: latest.command,
                versions: versions.iter().map(|v| v.version).collect(),
                latest: latest.id(),
                senders,
                receivers,
                pii_fields,
                search,
            })
        })
        .collect()
}

fn event_page<'a>(
    catalog: &'a EventCatalog,
    e: &'a EventVersion,
) -> Result<EventPage<'a>, CatalogError> {
    Ok(EventPage {
        id: e.id(),
        event_type: &e.event_type,
        version: e.version,
        title: &e.title,
        description: &e.description,
        command: e.command,
        topic: &e.topic,
        dlq: catalog.topics.dead_letter_topic(&e.topic),
        partitions: catalog.topic(&e.topic).map(|t| t.partitions),
        key: &e.key,
        compatibility: &e.compatibility,
        compatibility_meaning: level_meaning(&e.compatibility),
        rel_path: &e.rel_path,
        versions: catalog
            .versions(&e.event_type)
            .iter()
            .map(|v| (v.version, v.id()))
            .collect(),
        senders: names(catalog.services.senders(&e.event_type)),
        receivers: names(catalog.services.receivers(&e.event_type)),
        fields: field_rows(&e.schema, &e.key),
        rules: object_rules(&e.schema),
        examples: e
            .examples
            .iter()
            .map(|x| serde_json::to_string_pretty(x).unwrap_or_default())
            .collect(),
        changes: changes_to(catalog, e)?,
    })
}

/// Writes the site into `out`; returns the number of HTML pages written.
pub fn write_site(catalog: &EventCatalog, out: &Path) -> Result<usize, CatalogError> {
    let env = environment()?;
    let entries = entries(catalog);
    let mut pages = 0;
    let render = |name: &str, ctx: minijinja::Value| -> Result<String, CatalogError> {
        env.get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| render_err(name, &e))
    };
    let topics: Vec<_> = catalog
        .topics
        .topics
        .iter()
        .map(|t| {
            let list: Vec<&Entry> = entries.iter().filter(|e| e.topic == t.name).collect();
            context! { name => t.name, description => t.description, kind => t.kind, partitions => t.partitions, entries => list }
        })
        .collect();
    let services: Vec<_> = catalog
        .services
        .services
        .iter()
        .map(|s| {
            let sends: Vec<&Entry> = entries.iter().filter(|e| s.sends.contains(&e.event_type)).collect();
            let receives: Vec<&Entry> = entries.iter().filter(|e| s.receives.contains(&e.event_type)).collect();
            context! { name => s.name, description => s.description, sends => sends, receives => receives }
        })
        .collect();
    let html = render(
        "index.html",
        context! {
            root => "",
            page_title => "Event catalog",
            entries => &entries,
            topics => topics,
            services => services,
            diagram => svg::services_diagram(catalog, ""),
            event_count => entries.len(),
            version_count => catalog.events.len(),
        },
    )?;
    write(&out.join("index.html"), &html)?;
    pages += 1;
    for e in &catalog.events {
        let page = event_page(catalog, e)?;
        let html = render(
            "event.html",
            context! { root => "../", page_title => format!("{} v{}", e.event_type, e.version), e => page },
        )?;
        write(&out.join("events").join(format!("{}.html", e.id())), &html)?;
        pages += 1;
    }
    for t in catalog.topics.topics.iter() {
        let versions: Vec<_> = catalog
            .events_on(&t.name)
            .into_iter()
            .map(|e| context! { id => e.id(), event_type => e.event_type, version => e.version, title => e.title, key => e.key, senders => names(catalog.services.senders(&e.event_type)), receivers => names(catalog.services.receivers(&e.event_type)) })
            .collect();
        let html = render(
            "topic.html",
            context! {
                root => "../",
                page_title => t.name.clone(),
                t => context! {
                    name => t.name, description => t.description, kind => t.kind, partitions => t.partitions,
                    replication_factor => catalog.topics.replication_factor,
                    config => t.config,
                    dlq => catalog.topics.dead_letter_topic(&t.name),
                    dlq_partitions => catalog.topics.dead_letter.partitions,
                    dlq_config => catalog.topics.dead_letter.config,
                    versions => versions,
                },
            },
        )?;
        write(&out.join("topics").join(format!("{}.html", t.name)), &html)?;
        pages += 1;
    }
    write(
        &out.join("services.svg"),
        &svg::services_diagram(catalog, ""),
    )?;
    write(&out.join("style.css"), STYLE)?;
    write(&out.join("search.js"), SEARCH)?;
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::code_spans;

    #[test]
    fn code_spans_escape_and_mark_up() {
        let f = |s: &str| code_spans(s).to_string();
        assert_eq!(f("adds `insurance`."), "adds <code>insurance</code>.");
        assert_eq!(f("<b>&`x<y`"), "&lt;b&gt;&amp;<code>x&lt;y</code>");
        assert_eq!(f("one ` only"), "one ` only");
        assert_eq!(f("`a` and `b"), "<code>a</code> and `b");
    }
}
