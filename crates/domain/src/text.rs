//! What counts as text a person can read: a title of spaces and zero-width characters is blank.

/// Whether `c` shows nothing by itself: Unicode white space, a format character (category Cf:
/// zero-width spaces and joiners, direction marks, the byte-order mark, soft hyphens, tags) or
/// one of the filler letters that render empty.
#[must_use]
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c as u32,
            0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x180E | 0x3164 | 0xFEFF | 0xFFA0
            | 0x0600..=0x0605 | 0x06DD | 0x070F | 0x08E2
            | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
            | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// Whether nothing visible is left once white space and format characters are removed.
#[must_use]
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

/// `text` without invisible characters at either end.
#[must_use]
pub fn trim_invisible(text: &str) -> &str {
    text.trim_matches(is_invisible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_means_nothing_visible() {
        assert!(is_blank(""));
        assert!(is_blank(" \u{3000}\u{200B}\t\u{FEFF}\u{2060}\u{200D}"));
        assert!(!is_blank(" a\u{200B}"));
        assert!(!is_blank("膵がん"));
        assert_eq!(trim_invisible("\u{200B} 膵がん \u{FEFF}"), "膵がん");
    }
}
