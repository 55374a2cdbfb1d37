//! The gRPC transport: generic unary calls and the Subscribe stream by method path.

use http::uri::PathAndQuery;
use serde::de::DeserializeOwned;
use switchboard_proto::v1 as pb;
use tokio::sync::mpsc;
use tonic::transport::Channel;

use crate::{ClientError, Events, StreamEvent, Tls};

pub(crate) struct GrpcConn {
    channel: Channel,
    token: Option<String>,
}

fn path(method: &str) -> Result<PathAndQuery, ClientError> {
    PathAndQuery::from_maybe_shared(format!("/switchboard.v1.{method}")).map_err(ClientError::protocol)
}

impl GrpcConn {
    pub(crate) async fn connect(addr: &str, token: Option<String>, tls: Option<&Tls>) -> Result<Self, ClientError> {
        let channel = match tls {
            None => Channel::from_shared(format!("http://{addr}"))
                .map_err(ClientError::protocol)?
                .connect()
                .await
                .map_err(ClientError::unavailable)?,
            Some(tls) => {
                let endpoint = format!("https://{addr}");
                let (addr, tls) = (addr.to_owned(), tls.clone());
                let connector = tower::service_fn(move |_: http::Uri| {
                    let (addr, tls) = (addr.clone(), tls.clone());
                    async move { crate::tls::connect(&addr, &tls, b"h2").await.map(hyper_util::rt::TokioIo::new) }
                });
                Channel::from_shared(endpoint)
                    .map_err(ClientError::protocol)?
                    .connect_with_connector(connector)
                    .await
                    .map_err(ClientError::unavailable)?
            }
        };
        Ok(Self { channel, token })
    }

    fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(msg);
        if let Some(t) = &self.token
            && let Ok(v) = format!("Bearer {t}").parse()
        {
            req.metadata_mut().insert("authorization", v);
        }
        req
    }

    pub(crate) async fn call<Req, Resp>(&self, method: &str, req: Req) -> Result<Resp, ClientError>
    where
        Req: prost::Message + 'static,
        Resp: prost::Message + Default + DeserializeOwned + 'static,
    {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready().await.map_err(ClientError::unavailable)?;
        let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
        let resp = grpc.unary(self.request(req), path(method)?, codec).await?;
        Ok(resp.into_inner())
    }

    pub(crate) async fn subscribe(&mut self, req: pb::SubscribeRequest) -> Result<Events, ClientError> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready().await.map_err(ClientError::unavailable)?;
        let codec = tonic_prost::ProstCodec::<pb::SubscribeRequest, pb::Event>::default();
        let mut stream =
            grpc.server_streaming(self.request(req), path("SyncService/Subscribe")?, codec).await?.into_inner();
        let (tx, rx) = mpsc::channel(65_536);
        tokio::spawn(async move {
            loop {
                match stream.message().await {
                    Ok(Some(ev)) => {
                        if tx.send(StreamEvent::Event(ev)).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => {
                        let _ = tx.send(StreamEvent::Closed { code: 0, reason: "stream ended".into() }).await;
                        return;
                    }
                    Err(status) => {
                        let _ = tx
                            .send(StreamEvent::Closed {
                                code: status.code() as u16,
                                reason: status.message().to_owned(),
                            })
                            .await;
                        return;
                    }
                }
            }
        });
        Ok(Events { rx })
    }
}
