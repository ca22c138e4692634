//! A request body that is not the method's message is the client's fault:
//! tonic answers it INTERNAL (as gRPC's status-code table says of parse
//! errors), this layer turns that answer into INVALID_ARGUMENT naming the
//! message expected. Only the server is affected: clients keep tonic's
//! codec.
//!
//! tonic fails such a request before our handler runs, with a
//! trailers-only response that carries the `Status` in its extensions:
//! that is what is looked at, so a successful response costs one empty
//! lookup.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use prost::Message;
use tonic::{Code, Status};
use tower_layer::Layer;
use tower_service::Service;

use super::error::Error;

/// The request message of each method, by path (`/pmm.v1.Ledger/Append`
/// → `pmm.v1.AppendRequest`).
#[derive(Debug, Default)]
pub struct RequestTypes(HashMap<String, String>);

impl RequestTypes {
    /// From encoded `FileDescriptorSet`s (the generated
    /// `FILE_DESCRIPTOR_SET` constants); a set that does not decode adds
    /// nothing.
    pub fn from_descriptor_sets(sets: &[&[u8]]) -> RequestTypes {
        let mut types = HashMap::new();
        for set in sets {
            let Ok(set) = prost_types::FileDescriptorSet::decode(*set) else {
                continue;
            };
            for file in &set.file {
                let package = file.package();
                for service in &file.service {
                    let service_name = match package {
                        "" => service.name().to_string(),
                        p => format!("{p}.{}", service.name()),
                    };
                    for method in &service.method {
                        types.insert(
                            format!("/{service_name}/{}", method.name()),
                            method.input_type().trim_start_matches('.').to_string(),
                        );
                    }
                }
            }
        }
        RequestTypes(types)
    }

    /// What the request at `path` should have carried.
    fn expected(&self, path: &str) -> String {
        match self.0.get(path) {
            Some(name) => name.clone(),
            None => "the method's request message".to_string(),
        }
    }
}

/// The reason when `status` is tonic's answer to an undecodable request
/// body.
fn undecodable(status: &Status) -> Option<&str> {
    if status.code() != Code::Internal {
        return None;
    }
    let message = status.message();
    let known = message.starts_with("failed to decode Protobuf message")
        || message == "Unexpected EOF decoding stream."
        || message == "Missing request message.";
    known.then_some(message)
}

/// Wraps a service so that undecodable requests are answered
/// INVALID_ARGUMENT.
#[derive(Clone, Debug)]
pub struct UndecodableLayer {
    types: Arc<RequestTypes>,
}

impl UndecodableLayer {
    pub fn new(types: RequestTypes) -> UndecodableLayer {
        UndecodableLayer {
            types: Arc::new(types),
        }
    }
}

impl<S> Layer<S> for UndecodableLayer {
    type Service = Undecodable<S>;

    fn layer(&self, inner: S) -> Undecodable<S> {
        Undecodable {
            inner,
            types: Arc::clone(&self.types),
        }
    }
}

/// See [`UndecodableLayer`].
#[derive(Clone, Debug)]
pub struct Undecodable<S> {
    inner: S,
    types: Arc<RequestTypes>,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Undecodable<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: Default,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = UndecodableFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        // The URI is reference-counted: cloning it copies no text.
        let uri = request.uri().clone();
        UndecodableFuture {
            inner: self.inner.call(request),
            uri,
            types: Arc::clone(&self.types),
        }
    }
}

pin_project! {
    /// The response future, rewriting an undecodable request's answer.
    pub struct UndecodableFuture<F> {
        #[pin]
        inner: F,
        uri: http::Uri,
        types: Arc<RequestTypes>,
    }
}

impl<F, B, E> Future for UndecodableFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    B: Default,
{
    type Output = Result<http::Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let reason = response.extensions().get::<Status>().and_then(undecodable);
        let Some(reason) = reason else {
            return Poll::Ready(Ok(response));
        };
        let status = Status::from(Error::Undecodable {
            expected: this.types.expected(this.uri.path()),
            reason: reason.to_string(),
        });
        Poll::Ready(Ok(status.into_http()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_names_its_request_message() {
        let types = RequestTypes::from_descriptor_sets(&[
            pmm::v1::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ]);
        assert_eq!(
            types.expected("/pmm.v1.Ledger/Append"),
            "pmm.v1.AppendRequest"
        );
        assert_eq!(
            types.expected("/pmm.v1.Mind/GetContext"),
            "pmm.v1.GetContextRequest"
        );
        assert_eq!(
            types.expected("/grpc.health.v1.Health/Check"),
            "grpc.health.v1.HealthCheckRequest"
        );
        assert_eq!(types.expected("/x.Y/Z"), "the method's request message");
    }

    #[test]
    fn only_tonics_decode_failures_are_rewritten() {
        let decode = Status::internal("failed to decode Protobuf message: invalid wire type");
        assert!(undecodable(&decode).is_some());
        assert!(undecodable(&Status::internal("Unexpected EOF decoding stream.")).is_some());
        assert!(undecodable(&Status::internal("disk full")).is_none());
        let other_code = Status::unavailable("failed to decode Protobuf message: x");
        assert!(undecodable(&other_code).is_none());
    }
}
