//! The span every request runs in: tracing-actix-web's fields plus `member_id`, declared empty
//! here and filled in by the authentication extractors of the API and the web application once
//! they know who is asking ([`kakehashi_service::span::record_member`]).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

/// Builds the request span ([`tracing_actix_web::TracingLogger`]'s root span).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // `member_id` is kakehashi_service::span::MEMBER_ID (the macro takes the name itself).
        tracing_actix_web::root_span!(request, member_id = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use actix_web::{App, test, web};
    use tracing_actix_web::TracingLogger;

    use kakehashi_service::span::record_member;

    use super::*;

    /// Log output collected in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn the_member_recorded_after_the_span_starts_is_in_the_log() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let member = uuid::Uuid::new_v4();
        let app = test::init_service(App::new().wrap(TracingLogger::<RequestSpan>::new()).route(
            "/",
            web::get().to(move || async move {
                record_member(member);
                tracing::info!("answered");
                "ok"
            }),
        ))
        .await;
        test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains(&format!("member_id={member}")), "{log}");
    }
}
