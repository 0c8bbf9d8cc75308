//! A `tracing` layer that keeps every closed span's name, parent name and fields, for the
//! span tests (one test per binary: the subscriber is process-global).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

pub type Fields = BTreeMap<String, String>;

/// A closed span: name, parent's name, fields.
pub type Closed = (String, Option<String>, Fields);

/// Collects every span's name, parent and fields; closed spans move to `done`.
#[derive(Clone, Default)]
pub struct Capture {
    open: Arc<Mutex<HashMap<Id, Closed>>>,
    /// Closed spans, in closing order.
    pub done: Arc<Mutex<Vec<Closed>>>,
}

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, f: &Field, v: &str) {
        self.0.insert(f.name().to_owned(), v.to_owned());
    }
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        self.0.insert(f.name().to_owned(), format!("{v:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent().map(|p| p.name().to_owned()));
        self.open.lock().unwrap().insert(
            id.clone(),
            (attrs.metadata().name().to_owned(), parent, fields),
        );
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some((_, _, fields)) = self.open.lock().unwrap().get_mut(id) {
            values.record(&mut Visitor(fields));
        }
    }
    fn on_close(&self, id: Id, _: Context<'_, S>) {
        if let Some(span) = self.open.lock().unwrap().remove(&id) {
            self.done.lock().unwrap().push(span);
        }
    }
}

impl Capture {
    /// Wait (up to 60 s, a hang guard) until a span named `name` has closed; then every span
    /// closed so far.
    pub async fn closed_after(&self, name: &str) -> Vec<Closed> {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let spans = self.done.lock().unwrap().clone();
            if spans.iter().any(|(n, _, _)| n == name) {
                return spans;
            }
            assert!(
                std::time::Instant::now() < until,
                "gave up waiting for a closed {name} span: {spans:#?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
