//! The tower layer that checks which mind a call is for (the `pmm-mind`
//! header, see [`pmm::mind`]) before any service sees it: a name outside
//! the documented set is INVALID_ARGUMENT naming the header, for every
//! `pmm.v1` call that addresses a mind (Head and Subscribe included). Which
//! minds exist is the registry's to say ([`crate::minds::registry`]); the
//! services read the name with [`mind_of`]. Health, reflection and the
//! administration of minds (`pmm.v1.Minds`, which names minds in its
//! requests) pass whatever the header says.

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
/// The service that names minds in its requests instead.
const ADMINISTRATION: &str = "/pmm.v1.Minds/";

/// A header that does not name a mind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{MIND_HEADER}: {0}")]
pub struct BadName(String);

impl From<BadName> for Status {
    fn from(e: BadName) -> Status {
        Status::invalid_argument(e.to_string())
    }
}

/// Checks the mind a call to `path` carrying `headers` names.
pub fn address(path: &str, headers: &HeaderMap) -> Result<(), BadName> {
    if !path.starts_with(MIND_CALLS) || path.starts_with(ADMINISTRATION) {
        return Ok(());
    }
    let Some(value) = headers.get(MIND_HEADER) else {
        return Ok(());
    };
    let name = value
        .to_str()
        .map_err(|_| BadName("is not ASCII text".into()))?;
    check_mind_name(name).map_err(|why| BadName(format!("{name:?} {why}")))
}

/// The mind a call is for (checked by [`MindLayer`]): its header, or
/// `default`.
pub fn mind_of<R>(request: &tonic::Request<R>) -> String {
    request
        .metadata()
        .get(MIND_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or(DEFAULT_MIND)
        .to_string()
}

/// Refuses the calls whose header does not name a mind.
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
    fn names_of_the_set_pass_others_are_refused_naming_the_header() {
        let head = "/pmm.v1.Ledger/Head";
        assert_eq!(address(head, &headers(None)), Ok(()));
        assert_eq!(address(head, &headers(Some(b"default"))), Ok(()));
        assert_eq!(
            address("/pmm.v1.Mind/GetMetrics", &headers(Some(b"alice"))),
            Ok(())
        );
        let bad = address(head, &headers(Some(b"Alice"))).expect_err("bad name");
        let status = Status::from(bad);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "pmm-mind: \"Alice\" must start with a-z or 0-9"
        );
        assert!(address(head, &headers(Some(b"\xff"))).is_err());
        for path in [
            "/grpc.health.v1.Health/Check",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/pmm.v1.Minds/ListMinds",
        ] {
            assert_eq!(address(path, &headers(Some(b"Alice"))), Ok(()), "{path}");
        }
    }

    #[test]
    fn a_call_without_the_header_is_for_default() {
        let mut request = tonic::Request::new(());
        assert_eq!(mind_of(&request), "default");
        request
            .metadata_mut()
            .insert(MIND_HEADER, "alice".parse().expect("value"));
        assert_eq!(mind_of(&request), "alice");
    }
}
