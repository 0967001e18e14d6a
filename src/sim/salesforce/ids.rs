//! Salesforce record ids as the API returns them: 18 characters, a
//! 3-character key prefix naming the object (`500` Case, `003` Contact…),
//! 12 base-62 digits, and the 3-character suffix that makes the id
//! case-insensitive. The suffix algorithm (each 5-character chunk's
//! uppercase letters as bits, least significant first, indexing
//! `A–Z0–5`) is the one Salesforce's `CASESAFEID()` documents; the test
//! vectors below are published ones.

const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 18-character form of a 15-character id.
pub fn case_safe(id15: &str) -> String {
    let b = id15.as_bytes();
    let mut out = id15.to_string();
    for chunk in b.chunks(5) {
        let mut n = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                n |= 1 << i;
            }
        }
        out.push(SUFFIX[n] as char);
    }
    out
}

/// The `n`th id of an object with key prefix `prefix`, on pod `pod` (the
/// fourth character: orgs' ids start with their instance's letter).
pub fn mint(prefix: &str, pod: char, n: u64) -> String {
    let mut digits = [b'0'; 11];
    let mut v = n;
    for d in digits.iter_mut().rev() {
        *d = BASE62[(v % 62) as usize];
        v /= 62;
    }
    let id15 = format!("{prefix}{pod}{}", std::str::from_utf8(&digits).unwrap());
    case_safe(&id15)
}

/// Whether `s` has the shape of an id (15 or 18 base-62 characters, the
/// 18-character form with a matching suffix); for MALFORMED_ID.
pub fn well_formed(s: &str) -> bool {
    let ok_chars = s.bytes().all(|c| c.is_ascii_alphanumeric());
    match s.len() {
        15 => ok_chars,
        18 => ok_chars && case_safe(&s[..15]).eq_ignore_ascii_case(s),
        _ => false,
    }
}

/// The 18-character id `s` stands for, whatever case the caller used in
/// the suffix (15-character ids are case-sensitive and taken as given).
pub fn normalize(s: &str) -> String {
    if s.len() == 18 {
        case_safe(&s[..15])
    } else {
        case_safe(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vectors() {
        assert_eq!(case_safe("a01M00000062mPg"), "a01M00000062mPgIAI");
        assert_eq!(case_safe("001M000000qfPyS"), "001M000000qfPySIAU");
        assert_eq!(case_safe("AbCdEfGhIjKlMnO"), "AbCdEfGhIjKlMnOVKV");
        assert_eq!(case_safe("aBcDEfgHIJKLMNO"), "aBcDEfgHIJKLMNO025");
        let id = mint("500", '5', 123_456);
        assert_eq!(id.len(), 18);
        assert!(id.starts_with("5005"));
        assert!(well_formed(&id));
        assert_eq!(normalize(&id[..15]), id);
        assert!(!well_formed("500x"));
    }
}
