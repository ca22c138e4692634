//! Counts the requests in progress on each connection, for the idle
//! timeout of [`super::conn`]: a request counts from the moment the service
//! is called until its response body is done (the whole stream, for a
//! Subscribe or an Export), or dropped (the client gave up).
//!
//! Requests that did not come through a [`super::Conn`] (tests serving
//! other IO) pass through uncounted.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::conn::{Active, ConnInfo};

/// Wraps a service so that its requests count on their connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamCountLayer;

impl<S> Layer<S> for StreamCountLayer {
    type Service = StreamCount<S>;

    fn layer(&self, inner: S) -> StreamCount<S> {
        StreamCount { inner }
    }
}

/// See [`StreamCountLayer`].
#[derive(Clone, Debug)]
pub struct StreamCount<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for StreamCount<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<CountedBody<ResBody>>;
    type Error = S::Error;
    type Future = CountedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let active = request.extensions().get::<ConnInfo>().map(ConnInfo::begin);
        CountedFuture {
            inner: self.inner.call(request),
            active,
        }
    }
}

pin_project! {
    /// The response future, holding the request's count.
    pub struct CountedFuture<F> {
        #[pin]
        inner: F,
        active: Option<Active>,
    }
}

impl<F, B, E> Future for CountedFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<CountedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let active = this.active.take();
        Poll::Ready(result.map(|response| response.map(|inner| CountedBody { inner, active })))
    }
}

pin_project! {
    /// A response body, holding its request's count until it ends.
    pub struct CountedBody<B> {
        #[pin]
        inner: B,
        active: Option<Active>,
    }
}

impl<B: Body> Body for CountedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(None) = polled {
            *this.active = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::future::{ready, Ready};
    use std::task::Waker;

    use super::*;

    /// A body of `frames` one-byte frames.
    struct Frames(usize);

    impl Body for Frames {
        type Data = &'static [u8];
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
            if self.0 == 0 {
                return Poll::Ready(None);
            }
            self.0 -= 1;
            Poll::Ready(Some(Ok(Frame::data(&b"x"[..]))))
        }
    }

    /// Answers a three-frame body.
    #[derive(Clone)]
    struct Answer;

    impl Service<http::Request<()>> for Answer {
        type Response = http::Response<Frames>;
        type Error = Infallible;
        type Future = Ready<Result<Self::Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            ready(Ok(http::Response::new(Frames(3))))
        }
    }

    fn request(info: Option<&ConnInfo>) -> http::Request<()> {
        let mut request = http::Request::new(());
        if let Some(info) = info {
            request.extensions_mut().insert(info.clone());
        }
        request
    }

    fn respond(
        service: &mut StreamCount<Answer>,
        info: &ConnInfo,
    ) -> Pin<Box<CountedBody<Frames>>> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut future = std::pin::pin!(service.call(request(Some(info))));
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(response)) => Box::pin(response.into_body()),
            _ => panic!("the answer is ready"),
        }
    }

    #[test]
    fn a_request_counts_from_the_call_until_its_body_ends() {
        let info = ConnInfo::detached("127.0.0.1:9".parse().expect("addr"));
        let mut service = StreamCountLayer.layer(Answer);

        let future = service.call(request(Some(&info)));
        assert_eq!(info.active(), 1);
        drop(future);
        assert_eq!(info.active(), 0, "a call given up no longer counts");

        let mut body = respond(&mut service, &info);
        assert_eq!(info.active(), 1, "the response is still being sent");
        let mut cx = Context::from_waker(Waker::noop());
        let mut frames = 0;
        while let Poll::Ready(Some(_)) = body.as_mut().poll_frame(&mut cx) {
            frames += 1;
        }
        assert_eq!((frames, info.active()), (3, 0), "the body ended");

        let body = respond(&mut service, &info);
        assert_eq!(info.active(), 1);
        drop(body);
        assert_eq!(info.active(), 0, "a stream reset no longer counts");
    }

    #[test]
    fn requests_from_elsewhere_pass_uncounted() {
        let mut service = StreamCountLayer.layer(Answer);
        let mut cx = Context::from_waker(Waker::noop());
        let mut future = std::pin::pin!(service.call(request(None)));
        assert!(matches!(future.as_mut().poll(&mut cx), Poll::Ready(Ok(_))));
    }
}
