//! The tower layer that reads which mind a call is for (the `pmm-mind`
//! header, see [`pmm::mind`]) before any service sees it. This server
//! serves one mind, `default` (its `--db`): a call without the header, or
//! naming `default`, goes on; a name outside the documented set is
//! INVALID_ARGUMENT naming the header; any other mind is NOT_FOUND, for
//! every `pmm.v1` call (Head and Subscribe included). Health and reflection
//! are not about a mind and pass whatever the header says.

use std::task::{Context, Poll};

use futures_util::future::{Either, Ready};
use http::HeaderMap;
use pmm::mind::{check_mind_name, DEFAULT_MIND, MIND_HEADER};
use tonic::body::Body;
use tonic::Status;
use tower_layer::Layer;
use tower_service::Service;

/// The gRPC path prefix of the calls that address a mind.
const MIND_CALLS: &str = "/pmm.v1.";

/// Why a call's mind cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unaddressable {
    #[error("{MIND_HEADER}: {0}")]
    BadName(String),
    #[error(
        "{MIND_HEADER}: no mind named {0:?} on this server (it serves the one mind \
         {DEFAULT_MIND:?}; omit the header or name it)"
    )]
    Unknown(String),
}

impl From<Unaddressable> for Status {
    fn from(e: Unaddressable) -> Status {
        let message = e.to_string();
        match e {
            Unaddressable::BadName(_) => Status::invalid_argument(message),
            Unaddressable::Unknown(_) => Status::not_found(message),
        }
    }
}

/// Decides a call to `path` carrying `headers`.
pub fn address(path: &str, headers: &HeaderMap) -> Result<(), Unaddressable> {
    if !path.starts_with(MIND_CALLS) {
        return Ok(());
    }
    let Some(value) = headers.get(MIND_HEADER) else {
        return Ok(());
    };
    let name = value
        .to_str()
        .map_err(|_| Unaddressable::BadName("is not ASCII text".into()))?;
    check_mind_name(name).map_err(|why| Unaddressable::BadName(format!("{name:?} {why}")))?;
    if name == DEFAULT_MIND {
        Ok(())
    } else {
        Err(Unaddressable::Unknown(name.to_string()))
    }
}

/// Refuses the calls whose mind this server does not serve.
#[derive(Clone, Copy, Debug, Default)]
pub struct MindLayer;

impl<S> Layer<S> for MindLayer {
    type Service = MindAddress<S>;

    fn layer(&self, inner: S) -> MindAddress<S> {
        MindAddress { inner }
    }
}

/// The service [`MindLayer`] makes.
#[derive(Clone, Debug)]
pub struct MindAddress<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for MindAddress<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Either<Ready<Result<http::Response<Body>, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if let Err(refused) = address(request.uri().path(), request.headers()) {
            let status = Status::from(refused);
            return Either::Left(futures_util::future::ready(Ok(status.into_http())));
        }
        Either::Right(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(mind: Option<&[u8]>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(m) = mind {
            h.insert(MIND_HEADER, HeaderValue::from_bytes(m).expect("value"));
        }
        h
    }

    #[test]
    fn the_default_mind_is_served_others_refused_health_untouched() {
        let head = "/pmm.v1.Ledger/Head";
        assert_eq!(address(head, &headers(None)), Ok(()));
        assert_eq!(address(head, &headers(Some(b"default"))), Ok(()));
        assert_eq!(
            address("/pmm.v1.Mind/GetMetrics", &headers(Some(b"alice"))),
            Err(Unaddressable::Unknown("alice".into()))
        );
        let bad = address(head, &headers(Some(b"Alice"))).expect_err("bad name");
        let status = Status::from(bad);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "pmm-mind: \"Alice\" must start with a-z or 0-9"
        );
        let unknown = Status::from(Unaddressable::Unknown("alice".into()));
        assert_eq!(unknown.code(), tonic::Code::NotFound);
        assert!(
            unknown.message().contains("\"alice\""),
            "{}",
            unknown.message()
        );
        assert!(matches!(
            address(head, &headers(Some(b"\xff"))),
            Err(Unaddressable::BadName(_))
        ));
        for path in [
            "/grpc.health.v1.Health/Check",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        ] {
            assert_eq!(address(path, &headers(Some(b"alice"))), Ok(()), "{path}");
        }
    }
}
