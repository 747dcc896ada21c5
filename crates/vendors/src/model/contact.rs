//! Normalisation of the contact keys that join one person across vendors.

/// Trimmed, lower-case e-mail; `None` when what remains is not shaped like an address.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw
        .trim()
        .trim_matches(|c| c == '<' || c == '>')
        .to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
        && !domain.contains('@');
    plausible.then_some(email)
}

/// Calling codes of the countries our vendors serve, for numbers written without one.
fn calling_code(country: &str) -> Option<&'static str> {
    Some(match country.to_ascii_uppercase().as_str() {
        "GR" => "30",
        "CY" => "357",
        "LT" => "370",
        "LV" => "371",
        "EE" => "372",
        "PL" => "48",
        "RO" => "40",
        "BG" => "359",
        "IT" => "39",
        "NL" => "31",
        "DE" => "49",
        "FR" => "33",
        "ES" => "34",
        "GB" => "44",
        "RU" => "7",
        "CN" => "86",
        "US" | "CA" => "1",
        _ => return None,
    })
}

/// E.164 (`+` and 8 to 15 digits). Accepts spaces, dashes, dots and brackets, a `00` or `+`
/// international prefix, Greek numbers without country code (`69…` mobiles, `2…` landlines, the
/// usual dirt in V-Track data), and national numbers when `country` says where they belong.
pub fn normalize_phone(raw: &str, country: Option<&str>) -> Option<String> {
    let trimmed = raw.trim();
    let plus = trimmed.starts_with('+');
    if trimmed
        .chars()
        .any(|c| !(c.is_ascii_digit() || " -./()+".contains(c)))
    {
        return None;
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if digits.len() == 10 && (digits.starts_with("69") || digits.starts_with('2')) {
        // Greek mobile (69xxxxxxxx) or landline (2xxxxxxxxx) without +30.
        format!("30{digits}")
    } else if digits.len() == 12 && digits.starts_with("30") && digits[2..].starts_with('6') {
        digits
    } else if let Some(code) = country.and_then(calling_code) {
        let national = digits.strip_prefix('0').unwrap_or(&digits);
        if national.starts_with(code) && national.len() > 10 {
            national.to_owned()
        } else {
            format!("{code}{national}")
        }
    } else {
        return None;
    };
    (8..=15)
        .contains(&international.len())
        .then(|| format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email(" xxxxxx@GMAIL.COM "),
            Some("xxxxxx@gmail.com".into())
        );
        assert_eq!(normalize_email("not an email"), None);
        assert_eq!(normalize_email("a@b"), None);
        assert_eq!(normalize_email(""), None);
    }

    #[test]
    fn phones_become_e164() {
        let cases = [
            ("6979000000", None, Some("+306979000000")),
            ("697 900 0000", None, Some("+306979000000")),
            ("+30 697-900-0000", None, Some("+306979000000")),
            ("00306979000000", None, Some("+306979000000")),
            ("306979000000", None, Some("+306979000000")),
            ("2101234567", None, Some("+302101234567")),
            ("+37060000000", None, Some("+37060000000")),
            ("0612345678", Some("NL"), Some("+31612345678")),
            ("+10123456789", None, Some("+10123456789")),
            ("12345", None, None),
            ("call me", None, None),
            ("", None, None),
        ];
        for (raw, country, want) in cases {
            assert_eq!(
                normalize_phone(raw, country).as_deref(),
                want,
                "{raw:?} {country:?}"
            );
        }
    }
}
