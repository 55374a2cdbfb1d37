//! Switchboard's transports. gRPC, WebSocket and HTTP share one port and one RPC table
//! ([`rpc`]): a transport decodes, calls [`rpc::dispatch`], encodes — nothing else.

mod connect;
pub mod convert;
mod decode;
pub mod error;
mod files;
mod grpc;
mod gzip;
pub mod http;
pub mod metrics;
mod nul;
mod peer;
pub mod rpc;
pub mod ws;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use switchboard_service::Services;
use tracing::Instrument;

/// Shared-event slot of the protobuf `Event` (gRPC).
pub(crate) const EVENT_SLOT_PROTO: usize = 0;
/// Shared-event slot of the binary WebSocket frame.
pub(crate) const EVENT_SLOT_WS_BINARY: usize = 1;
/// Shared-event slot of the JSON WebSocket frame.
pub(crate) const EVENT_SLOT_WS_JSON: usize = 2;
/// Shared-event slot of the bare JSON `Event` (Connect streams).
pub(crate) const EVENT_SLOT_CONNECT_JSON: usize = 3;

/// Which browser origins may call the API from another origin (CORS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// No cross-origin calls (no CORS headers).
    #[default]
    Off,
    /// Any origin (`*`); tokens travel in the Authorization header, never in cookies.
    Any,
    /// These origins exactly (`https://app.example.com`).
    Origins(Vec<::http::HeaderValue>),
}

impl Cors {
    /// From the configured list: empty = off, `*` = any, otherwise exact origins; an
    /// origin that is not a valid header value is an error.
    pub fn parse(origins: &[String]) -> Result<Self, String> {
        if origins.is_empty() {
            return Ok(Self::Off);
        }
        if origins.iter().any(|o| o.trim() == "*") {
            return Ok(Self::Any);
        }
        let values = origins
            .iter()
            .map(|o| {
                let o = o.trim().trim_end_matches('/');
                if !(o.starts_with("http://") || o.starts_with("https://")) {
                    return Err(format!("CORS origin {o:?} must look like https://host[:port]"));
                }
                ::http::HeaderValue::from_str(o).map_err(|_| format!("CORS origin {o:?} is not a valid header value"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self::Origins(values))
    }

    fn layer(&self) -> Option<tower_http::cors::CorsLayer> {
        use ::http::header::{
            AUTHORIZATION, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, RANGE, RETRY_AFTER,
        };
        use tower_http::cors::{AllowOrigin, CorsLayer};
        let origin = match self {
            Self::Off => return None,
            Self::Any => AllowOrigin::any(),
            Self::Origins(list) => AllowOrigin::list(list.clone()),
        };
        let name = ::http::HeaderName::from_static;
        Some(
            CorsLayer::new()
                .allow_origin(origin)
                .allow_methods([
                    ::http::Method::GET,
                    ::http::Method::HEAD,
                    ::http::Method::POST,
                    ::http::Method::PATCH,
                    ::http::Method::DELETE,
                ])
                .allow_headers([
                    CONTENT_TYPE,
                    AUTHORIZATION,
                    RANGE,
                    IF_NONE_MATCH,
                    name("connect-protocol-version"),
                    name("connect-timeout-ms"),
                    name("x-request-id"),
                    name("tus-resumable"),
                    name("upload-length"),
                    name("upload-offset"),
                    name("upload-metadata"),
                    name("upload-checksum"),
                ])
                .expose_headers([
                    RETRY_AFTER,
                    LOCATION,
                    ETAG,
                    CONTENT_RANGE,
                    name("x-request-id"),
                    name("tus-resumable"),
                    name("tus-version"),
                    name("tus-extension"),
                    name("tus-max-size"),
                    name("upload-offset"),
                    name("upload-length"),
                    name("upload-expires"),
                    name("switchboard-file-id"),
                ])
                .max_age(Duration::from_secs(3600)),
        )
    }
}

/// Transport limits.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Largest request: WebSocket frame, HTTP body or gRPC message, in bytes.
    pub max_frame_bytes: usize,
    /// WebSocket ping interval.
    pub ping_interval: Duration,
    /// A WebSocket that sends nothing (not even a pong) for this long is closed.
    pub idle_timeout: Duration,
    /// Requests one WebSocket may have in flight.
    pub max_inflight_per_connection: usize,
    /// A WebSocket whose writes (a frame, or the close frame) take longer than this is
    /// dropped: its peer stopped reading.
    pub write_timeout: Duration,
    /// Behind a reverse proxy: the header holding the client's address (the last entry
    /// counts); empty means the TCP peer is the client.
    pub client_address_header: Option<String>,
    /// Cross-origin browser access.
    pub cors: Cors,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// False to leave `/metrics` off the main router (it is then served from
    /// [`Api::metrics_router`] on an address of its own).
    pub metrics_on_main: bool,
    /// The web client: answers the GET and HEAD requests no route owns (Connect and gRPC
    /// paths excepted). None answers them as unknown methods.
    pub web: Option<Router>,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            max_frame_bytes: 1 << 20,
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            max_inflight_per_connection: 32,
            write_timeout: Duration::from_secs(10),
            client_address_header: None,
            cors: Cors::Off,
            metrics_on_main: true,
            metrics_token: None,
            web: None,
        }
    }
}

#[derive(Clone)]
pub(crate) struct ApiState {
    services: Services,
    options: Arc<ApiOptions>,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    draining: Arc<AtomicBool>,
}

/// The HTTP application: all routes of all transports, and a handle to start draining.
pub struct Api {
    /// The router to serve.
    pub router: Router,
    /// `/metrics` alone, for a separate metrics address.
    pub metrics_router: Router,
    draining: Arc<AtomicBool>,
    services: Services,
}

impl Api {
    /// Builds the routes.
    pub async fn new(services: Services, options: ApiOptions) -> Self {
        let draining = Arc::new(AtomicBool::new(false));
        let cors = options.cors.layer();
        let metrics_on_main = options.metrics_on_main;
        let web = options.web.clone();
        let state = ApiState {
            services: services.clone(),
            options: Arc::new(options),
            metrics: metrics::prometheus(),
            draining: draining.clone(),
        };
        let metrics_router = Router::new().route("/metrics", get(http::metrics)).with_state(state.clone());
        let mut router = Router::new()
            .route("/v1/ws", get(ws::upgrade))
            .route("/v1/rpc/{service}/{method}", post(http::rpc))
            .route("/v1/uploads", post(files::tus_create).options(files::tus_options))
            .route("/v1/uploads/", post(files::tus_create).options(files::tus_options))
            .route(
                "/v1/uploads/{id}",
                axum::routing::head(files::tus_head)
                    .patch(files::tus_patch)
                    .delete(files::tus_delete)
                    .options(files::tus_options),
            )
            .route("/v1/files", post(files::upload_once))
            .route("/v1/files/{id}", get(files::download))
            .route("/v1/files/{id}/thumbnails/{size}", get(files::download_thumbnail))
            .route("/healthz", get(http::healthz))
            .route("/readyz", get(http::readyz));
        if metrics_on_main {
            router = router.route("/metrics", get(http::metrics));
        }
        let mut services_seen = Vec::new();
        for m in rpc::METHODS.iter().chain([&rpc::SUBSCRIBE]) {
            let svc = m.split('/').next().unwrap_or_default();
            if !services_seen.contains(&svc) {
                services_seen.push(svc);
                router = router.route(&format!("/switchboard.v1.{svc}/{{*rest}}"), any(grpc::handle));
            }
        }
        let router = router
            .with_state(state)
            .merge(grpc::standard_services(services.clone(), draining.clone()).await)
            .fallback(move |req: Request| fallback(web.clone(), req))
            .layer(middleware::from_fn(request_id));
        let router = match cors {
            Some(layer) => router.layer(layer),
            None => router,
        };
        Self { router, metrics_router, draining, services }
    }

    /// Starts draining: readiness fails and every live connection is told to go away.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.services.hub().close_all(switchboard_service::CloseReason::Shutdown);
    }
}

/// A request no route owns: the web client's when it is a page or asset load, else an
/// unknown Connect or gRPC method.
async fn fallback(web: Option<Router>, req: Request) -> Response {
    use tower::ServiceExt;
    let page_load = matches!(*req.method(), ::http::Method::GET | ::http::Method::HEAD)
        && !req.uri().path().starts_with("/switchboard.")
        && !req.uri().path().starts_with("/grpc.");
    match web {
        Some(web) if page_load => match web.oneshot(req).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        _ => grpc::fallback(req).await,
    }
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// Gives every HTTP request (and so every gRPC call and WebSocket) an id, a tracing span
/// carrying it, and an `x-request-id` response header.
async fn request_id(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:x}", REQUEST_IDS.fetch_add(1, Ordering::Relaxed)));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let mut resp = next.run(req).instrument(span).await;
    if let Ok(v) = id.parse() {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
