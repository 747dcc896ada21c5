//! Text from outside — a caller's request, a vendor's answer — as a log line may show it.
//!
//! tracing's text format writes a `%value` as it is: a newline in it starts a line of the
//! sender's choosing, an escape byte reaches the operator's terminal, a space and `=` pass for
//! another field, and a long value fills the log. Every such value is logged as [`Escaped`].

use std::fmt::{self, Display, Write};

/// How many characters of one value a log line shows; a longer value is cut, ending in `...`.
pub const MAX_CHARS: usize = 256;

/// `value` (anything `Display`) for a log line: in quotes; printable ASCII and the letters and
/// digits of any script kept (Greek statuses stay readable); `"` and `\` escaped with a
/// backslash; everything else — controls, line and paragraph separators, bidi overrides,
/// combining marks — written as `\n`, `\r`, `\t` or `\u{…}`; at most [`MAX_CHARS`] characters.
///
/// ```
/// use vendors::escaped::Escaped;
/// assert_eq!(Escaped("ok\n\u{1b}[31m \"x\"").to_string(), r#""ok\n\u{1b}[31m \"x\"""#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Escaped<T>(pub T);

impl<T: Display> Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        let mut out = Escaping {
            out: f,
            left: MAX_CHARS,
            cut: false,
        };
        write!(out, "{}", self.0)?;
        let cut = out.cut;
        if cut {
            f.write_str("...")?;
        }
        f.write_char('"')
    }
}

/// Escapes what is written through it into `out`, up to `left` characters; drops the rest.
struct Escaping<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
    left: usize,
    cut: bool,
}

impl Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.left == 0 {
                // Not an error: the value's own `Display` would report it as a failure.
                self.cut = true;
                return Ok(());
            }
            self.left -= 1;
            match c {
                '"' | '\\' => {
                    self.out.write_char('\\')?;
                    self.out.write_char(c)?;
                }
                ' '..='~' => self.out.write_char(c)?,
                '\n' => self.out.write_str("\\n")?,
                '\r' => self.out.write_str("\\r")?,
                '\t' => self.out.write_str("\\t")?,
                c if c.is_alphanumeric() => self.out.write_char(c)?,
                c => write!(self.out, "\\u{{{:x}}}", u32::from(c))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_could_forge_a_line_or_reach_a_terminal_is_escaped() {
        let shown =
            Escaped("evil\nWARN forged\r\t\u{1b}[2J\u{7f}\u{9b}\u{2028}\u{202e}").to_string();
        assert_eq!(
            shown,
            r#""evil\nWARN forged\r\t\u{1b}[2J\u{7f}\u{9b}\u{2028}\u{202e}""#
        );
        assert!(shown.bytes().all(|b| (b' '..=b'~').contains(&b)), "{shown}");
    }

    #[test]
    fn quotes_backslashes_and_letters_of_any_script() {
        assert_eq!(
            Escaped(r#"a "b" \c = d"#).to_string(),
            r#""a \"b\" \\c = d""#
        );
        assert_eq!(Escaped("Επιστροφή 12").to_string(), "\"Επιστροφή 12\"");
        assert_eq!(
            Escaped("e\u{301}").to_string(),
            r#""e\u{301}""#,
            "a combining mark"
        );
        assert_eq!(Escaped(42).to_string(), "\"42\"");
    }

    #[test]
    fn a_long_value_is_cut() {
        let shown = Escaped("x".repeat(10_000)).to_string();
        assert_eq!(shown, format!("\"{}...\"", "x".repeat(MAX_CHARS)));
        let exact = Escaped("y".repeat(MAX_CHARS)).to_string();
        assert_eq!(exact, format!("\"{}\"", "y".repeat(MAX_CHARS)), "not cut");
    }
}
