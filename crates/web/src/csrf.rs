//! Forms and their protection. Every state-changing request must come from this site: a
//! `Sec-Fetch-Site: cross-site` request or one whose `Origin` is another origin is refused, and
//! the form must carry the session's CSRF token (`csrf_token`, or the `X-CSRF-Token` header for
//! scripts). Before login the token is the form cookie's (double submit).

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::errors::WebError;
use crate::session::Visit;

/// A posted form: its fields in order (a field may repeat, as checkboxes do), and whether the
/// request looked as though it came from this site.
#[derive(Debug, Clone, Default)]
pub struct Form {
    fields: Vec<(String, String)>,
    header_token: Option<String>,
    same_site: bool,
    too_large: bool,
}

impl Form {
    #[must_use]
    pub fn parse(body: &[u8]) -> Form {
        let fields = form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        Form { fields, same_site: true, ..Form::default() }
    }

    /// The text fields of an upload (its files stay out), judged by the request as a posted
    /// form is.
    #[must_use]
    pub fn of_upload(req: &HttpRequest, parts: &[crate::upload::Part]) -> Form {
        let fields = parts
            .iter()
            .filter(|p| p.filename.is_none())
            .map(|p| (p.name.clone(), String::from_utf8_lossy(&p.data).into_owned()))
            .collect();
        Form { fields, header_token: header_token(req), same_site: same_site(req), too_large: false }
    }

    /// The first value of `name`, trimmed of nothing; empty when absent.
    #[must_use]
    pub fn get(&self, name: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`, in order, without empty ones.
    #[must_use]
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.clone()).collect()
    }

    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }

    /// Refuses the form unless it came from this site with the visit's token.
    ///
    /// # Errors
    /// [`WebError::Forbidden`] (403) otherwise; [`WebError::TooLarge`] for an oversized body.
    pub fn check(&self, visit: &Visit) -> Result<(), WebError> {
        if self.too_large {
            return Err(WebError::TooLarge(Box::new(visit.chrome("error.too_large_title"))));
        }
        let sent = self.header_token.as_deref().unwrap_or_else(|| self.get("csrf_token"));
        if !self.same_site || sent.is_empty() || !constant_time_eq(sent.as_bytes(), visit.csrf.as_bytes()) {
            return Err(WebError::Forbidden(Box::new(visit.chrome("error.forbidden_title"))));
        }
        Ok(())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request's fetch metadata and `Origin` say it came from this site. Browsers send
/// `Sec-Fetch-Site` with every request now; `Origin` with every POST. A request with neither
/// (an old browser, a script) is judged by the token alone.
#[must_use]
pub fn same_site(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return false;
    }
    match headers.get(actix_web::http::header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = req.connection_info().host().to_ascii_lowercase();
            let origin = origin.to_ascii_lowercase();
            let stripped = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            stripped.is_some_and(|o| o == host)
        }
    }
}

fn header_token(req: &HttpRequest) -> Option<String> {
    req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

impl FromRequest for Form {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Form, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let same = same_site(req);
        let header_token = header_token(req);
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            // Reading never fails here: the handler checks the token first, so a foreign site
            // learns nothing from how a body is parsed.
            match bytes.await {
                Ok(bytes) => Ok(Form { header_token, same_site: same, ..Form::parse(&bytes) }),
                Err(err) => {
                    let too_large = matches!(err.as_error::<PayloadError>(), Some(PayloadError::Overflow));
                    Ok(Form { header_token, same_site: same, too_large, ..Form::default() })
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_are_kept_in_order() {
        let form = Form::parse(b"modality=antibody&q=%E8%86%B5&modality=adc&modality=");
        assert_eq!(form.all("modality"), vec!["antibody", "adc"]);
        assert_eq!(form.get("q"), "膵");
        assert_eq!(form.get("missing"), "");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
