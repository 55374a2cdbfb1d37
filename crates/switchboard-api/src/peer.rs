//! Who is calling: the bearer token a request presents, and the client's address for the
//! per-address limits on Register, Login and Refresh (the TCP peer, or behind a reverse
//! proxy the header the operator names).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::HeaderMap;
use switchboard_service::ServiceError;

use crate::ApiOptions;
use crate::error::ApiError;

/// The bearer token of an `Authorization` header (`Bearer <token>`, the scheme in any
/// case), else `query`. A header with another scheme is refused rather than ignored.
pub(crate) fn token_from(headers: &HeaderMap, query: Option<String>) -> Result<Option<String>, ApiError> {
    match headers.get(http::header::AUTHORIZATION) {
        Some(v) => bearer_token(v.to_str().ok()).map(Some),
        None => Ok(query.filter(|t| !t.is_empty())),
    }
}

/// The token of an `Authorization` value, which must be `Bearer <token>`.
pub(crate) fn bearer_token(value: Option<&str>) -> Result<String, ApiError> {
    let refuse =
        || ApiError(ServiceError::unauthenticated("the Authorization header must be \"Bearer <access token>\""));
    let v = value.ok_or_else(refuse)?;
    let (scheme, token) = v.split_once(' ').ok_or_else(refuse)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(refuse());
    }
    Ok(token.to_owned())
}

/// The client address of a request: with `client_address_header` set, the last address
/// in that header (the one the operator's proxy appended); otherwise the TCP peer.
pub(crate) fn client_ip(headers: &HeaderMap, extensions: &http::Extensions, options: &ApiOptions) -> Option<IpAddr> {
    if let Some(name) = &options.client_address_header {
        return headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| parse_address(a.trim()))
            .next_back();
    }
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_address(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok().or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_header_gives_its_last_address() {
        let options = ApiOptions { client_address_header: Some("x-forwarded-for".into()), ..Default::default() };
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 198.51.100.7".parse().unwrap());
        let got = client_ip(&h, &http::Extensions::new(), &options);
        assert_eq!(got, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(client_ip(&HeaderMap::new(), &http::Extensions::new(), &options), None);
    }

    #[test]
    fn without_a_header_setting_the_peer_counts() {
        let mut ext = http::Extensions::new();
        ext.insert(ConnectInfo::<SocketAddr>("192.0.2.1:4000".parse().unwrap()));
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        assert_eq!(client_ip(&h, &ext, &ApiOptions::default()), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(parse_address("[2001:db8::1]:443"), Some("2001:db8::1".parse().unwrap()));
    }
}
