//! Cost of refusing duplicate keys (`scripts/bench strict-json`): parsing envelope-shaped
//! documents into a `serde_json::Value` with `pmp_strict_json::from_slice` against plain
//! `serde_json::from_slice::<Value>` (last value wins), in the same run. The consumer's
//! envelope parse builds the payload `Value` exactly this way; `scripts/bench consumer` has
//! the same comparison for the whole envelope (`envelope_parse_duplicate_check`) and the
//! full pipeline.
//!
//! Prints `case=parse_value ... ratio=` (plain ns / strict ns: 1.00 means no cost).

use std::time::Instant;

use serde_json::{json, Value};

fn corpus() -> Vec<Vec<u8>> {
    (0..32)
        .map(|i| {
            json!({
                "event_id": "0190f5a8-0000-7000-8000-000000000001",
                "event_type": "patient.created", "version": 1,
                "timestamp": "2024-05-01T10:00:00Z", "producer": "bench",
                "payload": {
                    "patient_id": i,
                    "name": {"salutation": "ms", "first_name": "Anna", "last_name": "Schmidt"},
                    "contact": {"email": "anna.schmidt@example.de", "phone": "+49 30 1234567"},
                    "address": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin"},
                    "status": "open",
                    "preferences": {"max_distance_km": 20, "therapist_gender": "any",
                                    "methods": ["cbt", "psychodynamic"]},
                },
            })
            .to_string()
            .into_bytes()
        })
        .collect()
}

fn main() {
    let corpus = corpus();
    let avg = corpus.iter().map(Vec::len).sum::<usize>() / corpus.len();
    let iters = 300_000usize;
    let time = |parse: &dyn Fn(&[u8]) -> bool| {
        let start = Instant::now();
        for k in 0..iters {
            assert!(parse(std::hint::black_box(&corpus[k % corpus.len()])));
        }
        start.elapsed().as_nanos() as f64 / iters as f64
    };
    // Alternate, best of five each (noise only adds time).
    let (mut strict, mut plain) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        strict = strict.min(time(&|b| pmp_strict_json::from_slice(b).is_ok()));
        plain = plain.min(time(&|b| serde_json::from_slice::<Value>(b).is_ok()));
    }
    println!(
        "# {iters} parses of {} envelopes, avg {avg} bytes",
        corpus.len()
    );
    println!("case=parse_value_last_wins ns_per_doc={plain:.0} ratio=1.00");
    println!(
        "case=parse_value_strict ns_per_doc={strict:.0} ratio={:.2}",
        plain / strict
    );
}
