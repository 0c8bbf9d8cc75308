//! Exact JSON numbers for the checker.
//!
//! Bounds, `multipleOf`, `enum` and `const` values are compared as exact decimals
//! ([`Dec`]: sign, digit string, power of ten), never as `f64`: `9007199254740993` and
//! `9007199254740992` differ, as do `i64::MIN` and `i64::MIN + 1`.
//!
//! Exactness is relative to what the loader kept. Integers that fit `i64`/`u64` arrive exact;
//! any other number arrives as the `f64` `serde_json` parsed (which is also what the runtime's
//! validator sees) and is read back from its shortest round-trip text, so two numbers compare
//! equal here exactly when they are equal to that validator. [`Dec::parse`] takes raw JSON
//! number text for a loader that keeps it.

use serde_json::{Number, Value};
use std::cmp::Ordering;
use std::fmt;

/// An exact decimal: `(-1)^neg × digits × 10^exp`, `digits` without leading or trailing zeros
/// (empty for zero, which is never negative).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Dec {
    neg: bool,
    digits: Vec<u8>,
    exp: i64,
}

impl Dec {
    /// Zero.
    pub fn zero() -> Dec {
        Dec {
            neg: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    /// Parses JSON number text (`-12.5e3`); `None` when it is not a JSON number.
    pub fn parse(text: &str) -> Option<Dec> {
        let (neg, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (mantissa, exp10) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let exp = exp10.checked_sub(frac.len() as i64)?;
        Some(Dec::normalized(neg, digits, exp))
    }

    /// The exact value of a parsed JSON number (see the module docs).
    pub fn of(n: &Number) -> Dec {
        if let Some(i) = n.as_i64() {
            return Dec::from_i128(i as i128);
        }
        if let Some(u) = n.as_u64() {
            return Dec::from_i128(u as i128);
        }
        Dec::parse(&n.to_string()).unwrap_or_else(Dec::zero)
    }

    /// The exact value of a JSON value when it is a number.
    pub fn of_value(v: &Value) -> Option<Dec> {
        match v {
            Value::Number(n) => Some(Dec::of(n)),
            _ => None,
        }
    }

    pub fn from_i128(i: i128) -> Dec {
        Dec::parse(&i.to_string()).unwrap_or_else(Dec::zero)
    }

    fn normalized(neg: bool, mut digits: Vec<u8>, mut exp: i64) -> Dec {
        let lead = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..lead);
        while digits.last() == Some(&0) {
            digits.pop();
            exp += 1;
        }
        if digits.is_empty() {
            return Dec::zero();
        }
        Dec { neg, digits, exp }
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn is_negative(&self) -> bool {
        self.neg
    }

    pub fn is_integer(&self) -> bool {
        self.exp >= 0
    }

    /// Largest integer not above `self`.
    pub fn floor(&self) -> Dec {
        self.round_toward(false)
    }

    /// Smallest integer not below `self`.
    pub fn ceil(&self) -> Dec {
        self.round_toward(true)
    }

    fn round_toward(&self, up: bool) -> Dec {
        if self.is_integer() {
            return self.clone();
        }
        let keep = self.digits.len() as i64 + self.exp;
        let truncated = if keep <= 0 {
            Dec::zero()
        } else {
            Dec::normalized(self.neg, self.digits[..keep as usize].to_vec(), 0)
        };
        // Truncation moved toward zero; step away when that was the wrong direction.
        if up != self.neg {
            truncated.add(&Dec::from_i128(if up { 1 } else { -1 }))
        } else {
            truncated
        }
    }

    /// `self + k` for a small integer step.
    pub fn plus(&self, k: i64) -> Dec {
        self.add(&Dec::from_i128(k as i128))
    }

    /// Exact sum.
    pub fn add(&self, other: &Dec) -> Dec {
        if self.is_zero() {
            return other.clone();
        }
        if other.is_zero() {
            return self.clone();
        }
        let exp = self.exp.min(other.exp);
        let a = self.scaled(exp);
        let b = other.scaled(exp);
        if self.neg == other.neg {
            return Dec::normalized(self.neg, add_mag(&a, &b), exp);
        }
        match cmp_mag(&a, &b) {
            Ordering::Equal => Dec::zero(),
            Ordering::Greater => Dec::normalized(self.neg, sub_mag(&a, &b), exp),
            Ordering::Less => Dec::normalized(other.neg, sub_mag(&b, &a), exp),
        }
    }

    /// Digits of the magnitude written at exponent `exp` (≤ `self.exp`).
    fn scaled(&self, exp: i64) -> Vec<u8> {
        let mut d = self.digits.clone();
        d.resize(d.len() + (self.exp - exp) as usize, 0);
        d
    }

    /// Whether `self / m` is an integer (`m > 0`); `None` when the divisor is too large to
    /// check (more than 36 significant digits after scaling).
    pub fn is_multiple_of(&self, m: &Dec) -> Option<bool> {
        if m.is_zero() || m.neg {
            return Some(false);
        }
        if self.is_zero() {
            return Some(true);
        }
        let exp = self.exp.min(m.exp);
        let divisor = m.digits.len() as i64 + (m.exp - exp);
        if divisor > 36 {
            return None;
        }
        let mut n: u128 = 0;
        for d in m.scaled(exp) {
            n = n * 10 + d as u128;
        }
        let zeros = self.exp - exp;
        let mut r: u128 = 0;
        for d in &self.digits {
            r = (r * 10 + *d as u128) % n;
        }
        // Appending zeros: `r·10^k ≡ 0 (mod n)` happens, if ever, once k covers the powers of 2
        // and 5 in n (n < 10^37, so k ≤ 123); later zeros change nothing.
        for _ in 0..zeros.min(130) {
            if r == 0 {
                break;
            }
            r = (r * 10) % n;
        }
        Some(r == 0)
    }

    /// Nearest `f64` (for candidate generation only).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(0.0)
    }

    /// The number as a JSON value: exact when it is an integer within `i64`/`u64`, otherwise the
    /// nearest finite `f64` (`None` when there is none).
    pub fn to_value(&self) -> Option<Value> {
        if self.is_integer() && self.digits.len() + (self.exp as usize) <= 20 {
            let text = self.to_plain();
            if let Ok(i) = text.parse::<i64>() {
                return Some(Value::from(i));
            }
            if let Ok(u) = text.parse::<u64>() {
                return Some(Value::from(u));
            }
        }
        Number::from_f64(self.to_f64()).map(Value::Number)
    }

    fn to_plain(&self) -> String {
        let mut s = String::new();
        if self.neg {
            s.push('-');
        }
        if self.is_zero() {
            return "0".into();
        }
        let digits: String = self.digits.iter().map(|d| (b'0' + d) as char).collect();
        if self.exp >= 0 {
            s.push_str(&digits);
            s.extend(std::iter::repeat_n('0', self.exp as usize));
        } else {
            let point = self.digits.len() as i64 + self.exp;
            if point > 0 {
                s.push_str(&digits[..point as usize]);
                s.push('.');
                s.push_str(&digits[point as usize..]);
            } else {
                s.push_str("0.");
                s.extend(std::iter::repeat_n('0', (-point) as usize));
                s.push_str(&digits);
            }
        }
        s
    }
}

fn cmp_mag(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn add_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut s = carry;
        if i > 0 {
            i -= 1;
            s += a[i];
        }
        if j > 0 {
            j -= 1;
            s += b[j];
        }
        out.push(s % 10);
        carry = s / 10;
    }
    out.reverse();
    out
}

/// `a - b` for magnitudes with `a >= b` (same scale, no leading zeros).
fn sub_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let (mut j, mut borrow) = (b.len(), 0i8);
    for i in (0..a.len()).rev() {
        let mut d = a[i] as i8 - borrow;
        if j > 0 {
            j -= 1;
            d -= b[j] as i8;
        }
        borrow = if d < 0 { 1 } else { 0 };
        out.push((d + 10 * borrow) as u8);
    }
    out.reverse();
    out
}

impl Ord for Dec {
    fn cmp(&self, other: &Dec) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => {
                return if other.neg {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, true) => {
                return if self.neg {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            _ => {}
        }
        if self.neg != other.neg {
            return if self.neg {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        // Magnitude: compare the position of the leading digit, then the digits.
        let top = |d: &Dec| d.digits.len() as i64 + d.exp;
        let mag = top(self).cmp(&top(other)).then_with(|| {
            let n = self.digits.len().max(other.digits.len());
            let at = |d: &Dec, i: usize| d.digits.get(i).copied().unwrap_or(0);
            (0..n)
                .map(|i| at(self, i).cmp(&at(other, i)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        if self.neg {
            mag.reverse()
        } else {
            mag
        }
    }
}

impl PartialOrd for Dec {
    fn partial_cmp(&self, other: &Dec) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Dec {
    /// Plain decimal up to 24 digits of width, scientific (`1.5e30`) beyond.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = (self.digits.len() as i64 + self.exp.abs()) as usize;
        if self.is_zero() || width <= 24 {
            return f.write_str(&self.to_plain());
        }
        let digits: String = self.digits.iter().map(|d| (b'0' + d) as char).collect();
        let e = self.exp + self.digits.len() as i64 - 1;
        let sign = if self.neg { "-" } else { "" };
        if digits.len() == 1 {
            write!(f, "{sign}{digits}e{e}")
        } else {
            write!(f, "{sign}{}.{}e{e}", &digits[..1], &digits[1..])
        }
    }
}

/// Exact numeric equality of two JSON numbers (`1 == 1.0`).
pub(crate) fn numbers_equal(a: &Number, b: &Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    if a.is_f64() && b.is_f64() {
        return a.as_f64() == b.as_f64();
    }
    Dec::of(a) == Dec::of(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dec {
        Dec::parse(s).unwrap()
    }

    #[test]
    fn parses_and_orders_exactly() {
        assert_eq!(d("1.50"), d("15e-1"));
        assert_eq!(d("-0"), Dec::zero());
        assert!(d("9007199254740993") > d("9007199254740992"));
        assert!(d("-9223372036854775808") < d("-9223372036854775807"));
        assert!(d("18446744073709551615") > d("18446744073709551614"));
        assert!(d("0.1000000000000000000001") > d("0.1"));
        assert!(d("-1.5") < d("-1.25"));
        assert!(d("1e30") > d("999999999999999999999999999999"));
        assert!(Dec::parse("1.").is_none() || Dec::parse("1.") == Some(d("1")));
        assert!(Dec::parse("abc").is_none());
    }

    #[test]
    fn rounds_and_adds() {
        assert_eq!(d("2.5").floor(), d("2"));
        assert_eq!(d("2.5").ceil(), d("3"));
        assert_eq!(d("-2.5").floor(), d("-3"));
        assert_eq!(d("-2.5").ceil(), d("-2"));
        assert_eq!(d("-0.5").ceil(), Dec::zero());
        assert_eq!(d("0.5").floor(), Dec::zero());
        assert_eq!(d("9007199254740992").plus(1), d("9007199254740993"));
        assert_eq!(
            d("-9223372036854775808").plus(-1),
            d("-9223372036854775809")
        );
        assert_eq!(d("0.25").add(&d("-1")), d("-0.75"));
        assert_eq!(d("100").plus(-100), Dec::zero());
    }

    #[test]
    fn divisibility_is_exact() {
        assert_eq!(d("0.3").is_multiple_of(&d("0.1")), Some(true));
        assert_eq!(d("1").is_multiple_of(&d("0.5")), Some(true));
        assert_eq!(d("0.35").is_multiple_of(&d("0.1")), Some(false));
        assert_eq!(d("9007199254740993").is_multiple_of(&d("2")), Some(false));
        assert_eq!(d("1e300").is_multiple_of(&d("7")), Some(false));
        assert_eq!(d("7e300").is_multiple_of(&d("7")), Some(true));
    }

    #[test]
    fn converts_back_to_json() {
        assert_eq!(
            d("-9223372036854775808").to_value(),
            Some(Value::from(i64::MIN))
        );
        assert_eq!(
            d("18446744073709551615").to_value(),
            Some(Value::from(u64::MAX))
        );
        assert_eq!(d("0.5").to_value(), Some(Value::from(0.5)));
        assert_eq!(d("1e30").to_string(), "1e30");
        assert_eq!(d("-0.001").to_string(), "-0.001");
        assert!(numbers_equal(
            &Number::from(1),
            &Number::from_f64(1.0).unwrap()
        ));
        assert!(!numbers_equal(
            &Number::from(9007199254740993u64),
            &Number::from_f64(9007199254740992.0).unwrap()
        ));
    }
}
