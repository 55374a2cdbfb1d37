//! The HTTP transport: `POST /v1/rpc/<Service>/<Method>` with JSON.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_proto::v1 as pb;

use crate::{ClientError, Tls};

enum Pool {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>),
}

pub(crate) struct HttpConn {
    client: Pool,
    base: String,
    token: Option<String>,
}

impl HttpConn {
    pub(crate) fn new(addr: &str, token: Option<String>, tls: Option<&Tls>) -> Self {
        let builder = Client::builder(TokioExecutor::new());
        match tls {
            None => Self { client: Pool::Plain(builder.build_http()), base: format!("http://{addr}"), token },
            Some(tls) => {
                let connector = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(tls.plain_config())
                    .https_only()
                    .enable_http1()
                    .build();
                Self { client: Pool::Tls(builder.build(connector)), base: format!("https://{addr}"), token }
            }
        }
    }

    pub(crate) async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        method: &str,
        req: &Req,
    ) -> Result<Resp, ClientError> {
        let body = serde_json::to_vec(req).map_err(ClientError::protocol)?;
        let mut builder =
            http::Request::post(format!("{}/v1/rpc/{method}", self.base)).header("content-type", "application/json");
        if let Some(t) = &self.token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        let request = builder.body(Full::new(Bytes::from(body))).map_err(ClientError::protocol)?;
        let resp = match &self.client {
            Pool::Plain(c) => c.request(request).await,
            Pool::Tls(c) => c.request(request).await,
        }
        .map_err(ClientError::unavailable)?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await.map_err(ClientError::unavailable)?.to_bytes();
        if status.is_success() {
            serde_json::from_slice(&bytes).map_err(ClientError::protocol)
        } else {
            let err: pb::Error = serde_json::from_slice(&bytes)
                .map_err(|_| ClientError::protocol(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes))))?;
            Err(err.into())
        }
    }
}
