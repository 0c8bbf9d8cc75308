//! Integer widths from bounds.
//!
//! The lower bound is `minimum` (or `exclusiveMinimum + 1`), the upper bound `maximum` (or
//! `exclusiveMaximum - 1`); for `enum`s of integers, the smallest and largest value. With a
//! lower bound >= 0 the narrowest unsigned type holding the upper bound is used (`u64`
//! without one); otherwise the narrowest signed type holding both (`i64` when unbounded).

use serde_json::{Map, Value};

use super::IntTy;

/// Pick the width for an integer schema; `values` are the `enum` values, if any.
pub fn width(map: &Map<String, Value>, values: Option<&[i128]>) -> IntTy {
    let num = |k: &str| map.get(k).and_then(Value::as_f64);
    let mut lo = num("minimum").map(|v| v.ceil() as i128);
    if let Some(x) = num("exclusiveMinimum") {
        let b = x.floor() as i128 + 1;
        lo = Some(lo.map_or(b, |l| l.max(b)));
    }
    let mut hi = num("maximum").map(|v| v.floor() as i128);
    if let Some(x) = num("exclusiveMaximum") {
        let b = x.ceil() as i128 - 1;
        hi = Some(hi.map_or(b, |h| h.min(b)));
    }
    if let Some(values) = values {
        if let (Some(min), Some(max)) = (values.iter().min(), values.iter().max()) {
            lo = Some(lo.map_or(*min, |l| l.max(*min)));
            hi = Some(hi.map_or(*max, |h| h.min(*max)));
        }
    }
    pick(lo, hi)
}

fn pick(lo: Option<i128>, hi: Option<i128>) -> IntTy {
    match (lo, hi) {
        (Some(lo), hi) if lo >= 0 => match hi {
            Some(h) if h <= u8::MAX as i128 => IntTy::U8,
            Some(h) if h <= u16::MAX as i128 => IntTy::U16,
            Some(h) if h <= u32::MAX as i128 => IntTy::U32,
            _ => IntTy::U64,
        },
        (Some(lo), Some(hi)) => {
            if lo >= i8::MIN as i128 && hi <= i8::MAX as i128 {
                IntTy::I8
            } else if lo >= i16::MIN as i128 && hi <= i16::MAX as i128 {
                IntTy::I16
            } else if lo >= i32::MIN as i128 && hi <= i32::MAX as i128 {
                IntTy::I32
            } else {
                IntTy::I64
            }
        }
        _ => IntTy::I64,
    }
}

/// Inclusive range of an integer type.
pub fn range(ty: IntTy) -> (i128, i128) {
    match ty {
        IntTy::U8 => (0, u8::MAX as i128),
        IntTy::U16 => (0, u16::MAX as i128),
        IntTy::U32 => (0, u32::MAX as i128),
        IntTy::U64 => (0, u64::MAX as i128),
        IntTy::I8 => (i8::MIN as i128, i8::MAX as i128),
        IntTy::I16 => (i16::MIN as i128, i16::MAX as i128),
        IntTy::I32 => (i32::MIN as i128, i32::MAX as i128),
        IntTy::I64 => (i64::MIN as i128, i64::MAX as i128),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn w(v: Value) -> IntTy {
        width(v.as_object().unwrap(), None)
    }

    #[test]
    fn widths_follow_bounds() {
        assert_eq!(w(json!({"minimum": 1})), IntTy::U64);
        assert_eq!(w(json!({"minimum": 0, "maximum": 60})), IntTy::U8);
        assert_eq!(w(json!({"minimum": 0, "maximum": 256})), IntTy::U16);
        assert_eq!(w(json!({"minimum": 1, "maximum": 100000})), IntTy::U32);
        assert_eq!(w(json!({"minimum": -5, "maximum": 5})), IntTy::I8);
        assert_eq!(
            w(json!({"exclusiveMinimum": -1, "exclusiveMaximum": 256})),
            IntTy::U8
        );
        assert_eq!(w(json!({"maximum": 5})), IntTy::I64);
        assert_eq!(w(json!({})), IntTy::I64);
        assert_eq!(
            width(json!({}).as_object().unwrap(), Some(&[1, 2, 300])),
            IntTy::U16
        );
    }
}
