//! File uploads: a `multipart/form-data` body, already read whole within its cap, split into
//! its parts. Only what a browser's form sends is understood (named parts, an optional file name
//! and content type); anything malformed is no form at all, which the CSRF check then refuses.

/// One part of an upload: a form field, or a file when it has a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// More parts than any form of this site has are not a form of this site.
const MAX_PARTS: usize = 32;

/// The boundary of a `multipart/form-data` content type.
#[must_use]
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = split_params(content_type).into_iter();
    let essence = params.next()?.0;
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find(|(k, _)| k.eq_ignore_ascii_case("boundary")).map(|(_, v)| v).filter(|b| !b.is_empty() && b.len() <= 70)
}

/// The parts of `body`, or `None` when it is not a well-formed multipart body.
#[must_use]
pub fn parse(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let opening = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let start = find(body, opening.as_bytes())?;
    let mut rest = &body[start + opening.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        if parts.len() == MAX_PARTS {
            return None;
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let header_end = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..header_end]).ok()?;
        rest = &rest[header_end + 4..];
        let end = find(rest, delimiter.as_bytes())?;
        let data = rest[..end].to_vec();
        rest = &rest[end + delimiter.len()..];
        let (mut name, mut filename, mut content_type) = (None, None, None);
        for line in headers.split("\r\n") {
            let (key, value) = line.split_once(':')?;
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                let mut params = split_params(value).into_iter();
                if !params.next().is_some_and(|(d, _)| d.eq_ignore_ascii_case("form-data")) {
                    return None;
                }
                for (k, v) in params {
                    match k.to_ascii_lowercase().as_str() {
                        "name" => name = Some(v),
                        "filename" => filename = Some(v),
                        _ => {}
                    }
                }
            } else if key.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(value.trim().to_owned());
            }
        }
        parts.push(Part { name: name?, filename, content_type, data });
    }
}

/// `essence; key=value; key="quoted; value"` as `(essence, "")` followed by the pairs.
fn split_params(header: &str) -> Vec<(String, String)> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = header.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => quoted = !quoted,
            '\\' if quoted => current.extend(chars.next()),
            ';' if !quoted => pieces.push(std::mem::take(&mut current)),
            _ => current.push(ch),
        }
    }
    pieces.push(current);
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| match piece.split_once('=') {
            Some((k, v)) if i > 0 => (k.trim().to_owned(), v.trim().to_owned()),
            _ => (piece.trim().to_owned(), String::new()),
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(offset) = haystack.get(from..)?.iter().position(|b| *b == first) {
        let at = from + offset;
        if haystack.get(at..at + needle.len())? == needle {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\xe7\xa0\x94\xe7\xa9\xb6; 1.csv\"\r\n\
        Content-Type: text/csv\r\n\r\ntitle,summary\r\n--Xy not yet\r\nA,B\r\n\r\n--XyZ--\r\n";

    #[test]
    fn a_browsers_upload_splits_into_its_fields_and_file() {
        assert_eq!(boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(), Some("XyZ"));
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        let parts = parse(BODY, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].data.as_slice()), ("csrf_token", b"abc".as_slice()));
        assert_eq!(parts[1].filename.as_deref(), Some("研究; 1.csv"));
        assert_eq!(parts[1].content_type.as_deref(), Some("text/csv"));
        assert_eq!(parts[1].data, b"title,summary\r\n--Xy not yet\r\nA,B\r\n");
    }

    #[test]
    fn malformed_bodies_are_no_form() {
        assert_eq!(parse(b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated", "XyZ"), None);
        assert_eq!(parse(b"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--XyZ--", "XyZ"), None);
        assert_eq!(parse(b"no boundary here", "XyZ"), None);
        let many = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n".repeat(MAX_PARTS + 1) + "--b--";
        assert_eq!(parse(many.as_bytes(), "b"), None);
    }
}
