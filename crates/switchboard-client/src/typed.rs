//! One typed method on [`Client`] per unary RPC, generated from `proto/`
//! (`switchboard_proto::with_unary_methods!`): `client.send_message(&req)` instead of
//! `client.call("MessageService/SendMessage", &req)`, checked by the compiler.

use switchboard_proto::v1 as pb;

use crate::{Client, ClientError};

macro_rules! typed_calls {
    ($( $(#[$sdoc:meta])* $svc:ident { $( $(#[$doc:meta])* $method:ident => $path:literal ($req:ident, $resp:ident) ),* $(,)? } )*) => {
        impl Client {
            $($(
                $(#[$doc])*
                #[doc = ""]
                #[doc = concat!("`", $path, "`.")]
                pub async fn $method(&self, req: &pb::$req) -> Result<pb::$resp, ClientError> {
                    self.call($path, req).await
                }
            )*)*
        }
    };
}

switchboard_proto::with_unary_methods!(typed_calls);
