//! Durations as users write them in the config: one or more `<integer><unit>`
//! parts, units `ms`, `s`, `m`, `h`, `d` (`"30s"`, `"5m"`, `"1h30m"`,
//! `"7d"`). Small enough to own rather than pull in a crate, and strict: no
//! spaces, no fractions, no zero.

use std::time::Duration;

/// Parses a positive duration such as `"5m"` or `"1h30m"`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected =
        || format!("expected a duration such as \"30s\", \"5m\", \"1h\" or \"7d\", got {text:?}");
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - digits);
        let number: u64 = rest[..digits].parse().map_err(|_| expected())?;
        let part = unit(&rest[digits..digits + unit_len], number).ok_or_else(expected)?;
        total = total.checked_add(part).ok_or_else(expected)?;
        rest = &rest[digits + unit_len..];
    }
    if total.is_zero() {
        return Err(format!("{}: must be longer than zero", expected()));
    }
    Ok(total)
}

/// `number` of `unit`, or `None` for an unknown unit or an overflow.
fn unit(unit: &str, number: u64) -> Option<Duration> {
    let seconds = match unit {
        "ms" => return Some(Duration::from_millis(number)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    number.checked_mul(seconds).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_forms() {
        let secs = |s: &str| parse_duration(s).unwrap().as_secs();
        assert_eq!(secs("30s"), 30);
        assert_eq!(secs("5m"), 300);
        assert_eq!(secs("1h"), 3600);
        assert_eq!(secs("24h"), 86_400);
        assert_eq!(secs("7d"), 604_800);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
    }

    #[test]
    fn rejects_what_is_not_a_positive_duration() {
        for bad in [
            "",
            "5",
            "m",
            "5 m",
            "1.5h",
            "5w",
            "-5m",
            "0s",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
        assert!(
            parse_duration("0s")
                .unwrap_err()
                .contains("longer than zero")
        );
    }
}
