//! Static files compiled into the binary: the vendored htmx and Pico CSS (with their licences
//! beside them) and the site's own stylesheet. Nothing is fetched from anywhere else.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "text/plain; charset=utf-8",
    }
}

/// `GET /assets/{file}`.
pub async fn serve(file: web::Path<String>) -> HttpResponse {
    match Assets::get(&file) {
        Some(found) => HttpResponse::Ok()
            .content_type(content_type(&file))
            // The files change only with the binary; a day keeps pages fast without going stale long.
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(found.data.into_owned()),
        None => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("not found"),
    }
}
