//! The services → topics → services diagram, as inline SVG generated at build time.
//!
//! Three columns: services that send (left), topics (middle), services that receive
//! (right). An edge joins a service to a topic when it sends at least one event type on it,
//! and a topic to a service when the service receives at least one event type from it. Nodes
//! link to the topic pages. Text is escaped; the SVG has a `<title>` and `<desc>` for screen
//! readers, carries its own `<style>` (so `services.svg` also renders standalone) and needs no
//! script, font or network.

use crate::model::EventCatalog;
use std::fmt::Write as _;

const ROW: usize = 44;
const BOX_H: usize = 30;
const BOX_W: usize = 200;
const COL_X: [usize; 3] = [10, 330, 650];
const TOP: usize = 40;

/// Escapes text for XML content and attribute values.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The diagram; `root` prefixes links (`""` on the index).
pub fn services_diagram(catalog: &EventCatalog, root: &str) -> String {
    let services = &catalog.services.services;
    let topics: Vec<&str> = catalog
        .topics
        .topics
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let on_topic = |list: &[String], topic: &str| {
        catalog
            .events_on(topic)
            .iter()
            .any(|e| list.contains(&e.event_type))
    };
    let senders: Vec<_> = services.iter().filter(|s| !s.sends.is_empty()).collect();
    let receivers: Vec<_> = services.iter().filter(|s| !s.receives.is_empty()).collect();
    let rows = senders.len().max(topics.len()).max(receivers.len()).max(1);
    let height = TOP + rows * ROW + 10;
    let width = COL_X[2] + BOX_W + 10;
    // Center each column vertically.
    let y_of = |i: usize, n: usize| TOP + (rows - n) * ROW / 2 + i * ROW;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-labelledby="diagram-title diagram-desc" class="diagram">
<title id="diagram-title">Services, topics and services</title>
<desc id="diagram-desc">Left: services that send; middle: Kafka topics; right: services that receive. An arrow means the service sends to, or receives from, the topic.</desc>
<style>
svg.diagram .node {{ fill: #fff; stroke: #5b6472; }}
svg.diagram .node.topic {{ fill: #eaf1fb; stroke: #1f5fbf; }}
svg.diagram .label {{ font: 13px ui-monospace, "DejaVu Sans Mono", monospace; fill: #1d2430; }}
svg.diagram .col-title {{ font: 600 13px system-ui, "DejaVu Sans", sans-serif; fill: #5b6472; }}
svg.diagram .edge {{ fill: none; stroke: #9aa5b4; stroke-width: 1.3; }}
svg.diagram .arrowhead {{ fill: #9aa5b4; }}
svg.diagram a:focus .node {{ stroke-width: 3; stroke: #f5a623; }}
</style>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>
<text x="{}" y="22" class="col-title">sends</text><text x="{}" y="22" class="col-title">topic</text><text x="{}" y="22" class="col-title">receives</text>
"##,
        COL_X[0], COL_X[1], COL_X[2]
    );
    let mid = BOX_H / 2;
    for (i, svc) in senders.iter().enumerate() {
        for (j, t) in topics.iter().enumerate() {
            if on_topic(&svc.sends, t) {
                edge(
                    &mut s,
                    COL_X[0] + BOX_W,
                    y_of(i, senders.len()) + mid,
                    COL_X[1],
                    y_of(j, topics.len()) + mid,
                );
            }
        }
    }
    for (j, t) in topics.iter().enumerate() {
        for (i, svc) in receivers.iter().enumerate() {
            if on_topic(&svc.receives, t) {
                edge(
                    &mut s,
                    COL_X[1] + BOX_W,
                    y_of(j, topics.len()) + mid,
                    COL_X[2],
                    y_of(i, receivers.len()) + mid,
                );
            }
        }
    }
    for (i, svc) in senders.iter().enumerate() {
        node(
            &mut s,
            COL_X[0],
            y_of(i, senders.len()),
            &svc.name,
            "service",
            None,
        );
    }
    for (j, t) in topics.iter().enumerate() {
        let href = format!("{root}topics/{t}.html");
        node(
            &mut s,
            COL_X[1],
            y_of(j, topics.len()),
            t,
            "topic",
            Some(&href),
        );
    }
    for (i, svc) in receivers.iter().enumerate() {
        node(
            &mut s,
            COL_X[2],
            y_of(i, receivers.len()),
            &svc.name,
            "service",
            None,
        );
    }
    s.push_str("</svg>");
    s
}

fn edge(s: &mut String, x1: usize, y1: usize, x2: usize, y2: usize) {
    let cx = (x1 + x2) / 2;
    let _ = writeln!(
        s,
        r#"<path d="M {x1} {y1} C {cx} {y1}, {cx} {y2}, {x2} {y2}" class="edge" marker-end="url(#arrow)"/>"#
    );
}

fn node(s: &mut String, x: usize, y: usize, label: &str, class: &str, href: Option<&str>) {
    let label = esc(label);
    let body = format!(
        r#"<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" class="node {class}"/><text x="{}" y="{}" class="label">{label}</text>"#,
        x + 10,
        y + 20
    );
    match href {
        Some(h) => {
            let _ = writeln!(s, r#"<a href="{}">{body}</a>"#, esc(h));
        }
        None => {
            let _ = writeln!(s, "<g>{body}</g>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc(r#"<a href="x">&</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
