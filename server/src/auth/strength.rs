//! The minimum strength of `--admin-token`, checked at start.
//!
//! The attempt limit slows guessing; it cannot save a token like `admin`. A token must have at
//! least [`MIN_LENGTH`] characters, [`MIN_DISTINCT`] different ones, and an estimated
//! [`MIN_BITS`] bits (length × log2 of the alphabet its character classes span): 16 lowercase
//! letters pass (75 bits), 16 digits do not (53), `openssl rand -hex 16` gives 165.

/// Fewest characters.
pub const MIN_LENGTH: usize = 16;
/// Fewest different characters (so `aaaaaaaaaaaaaaaa` fails).
pub const MIN_DISTINCT: usize = 8;
/// Fewest estimated bits.
pub const MIN_BITS: f64 = 64.0;

/// A test for one class of characters (lowercase, digits, …).
type CharClass = fn(&char) -> bool;

/// Refuses a token too weak to stand against guessing, saying why and what to use instead.
pub fn check(token: &str) -> Result<(), String> {
    let length = token.chars().count();
    let mut distinct: Vec<char> = token.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let classes: [(CharClass, f64); 4] = [
        (char::is_ascii_lowercase, 26.0),
        (char::is_ascii_uppercase, 26.0),
        (char::is_ascii_digit, 10.0),
        (|c: &char| !c.is_ascii_alphanumeric(), 33.0),
    ];
    let alphabet: f64 = classes
        .iter()
        .filter(|(class, _)| distinct.iter().any(class))
        .map(|(_, size)| size)
        .sum();
    let bits = length as f64 * alphabet.max(1.0).log2();
    let weakness = if length < MIN_LENGTH {
        format!("it has {length} characters, at least {MIN_LENGTH} are needed")
    } else if distinct.len() < MIN_DISTINCT {
        format!(
            "it has {} different characters, at least {MIN_DISTINCT} are needed",
            distinct.len()
        )
    } else if bits < MIN_BITS {
        format!("it holds about {bits:.0} bits, at least {MIN_BITS:.0} are needed (mix letters and digits, or make it longer)")
    } else {
        return Ok(());
    };
    Err(format!(
        "--admin-token is too weak: {weakness}; use a random one, e.g. `openssl rand -hex 16`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_tokens_are_refused_with_the_reason() {
        assert!(check("").unwrap_err().contains("0 characters"));
        assert!(check("s3cret").unwrap_err().contains("6 characters"));
        assert!(check("aaaaaaaaaaaaaaaaaaaa")
            .unwrap_err()
            .contains("different"));
        assert!(check("1234567890123456").unwrap_err().contains("bits"));
    }

    #[test]
    fn random_tokens_pass() {
        assert_eq!(check("0f3a9c2e7b5d1f4a8c6e0b2d4f6a8c0e"), Ok(()));
        assert_eq!(check("correcthorsebatt"), Ok(()));
        assert_eq!(check("12345678901234567890"), Ok(()));
    }
}
