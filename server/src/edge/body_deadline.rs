//! A deadline for a request's body, counted from its head.
//!
//! hyper's header read timeout ends when the head has arrived; a client that then sends its
//! body a byte at a time would hold the connection (and its handler) for as long as it likes,
//! under every cap. Every request body is therefore wrapped in [`Deadline`]: once the time is
//! up, the next read fails, the handler answers 400 ("cannot read the request body") and the
//! connection is closed. A body the console accepts (at most 256 KiB) takes milliseconds on
//! any real link, so the deadline is the header timeout again.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// A body that fails once `timeout` has passed since it was wrapped.
pub struct Deadline<B> {
    body: B,
    timeout: Duration,
    expired: Pin<Box<Sleep>>,
}

impl<B> Deadline<B> {
    /// `body`, which must have arrived whole within `timeout` from now.
    pub fn new(body: B, timeout: Duration) -> Self {
        Deadline {
            body,
            timeout,
            expired: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl<B> Body for Deadline<B>
where
    B: Body + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = B::Data;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if this.expired.as_mut().poll(cx).is_ready() {
            let message = format!("the body did not arrive within {:?}", this.timeout);
            return Poll::Ready(Some(Err(message.into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;

    /// A byte every 50 ms, for ever: a slowloris body.
    struct Trickle(Pin<Box<Sleep>>);

    impl Body for Trickle {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            std::task::ready!(self.0.as_mut().poll(cx));
            self.0 = Box::pin(tokio::time::sleep(Duration::from_millis(50)));
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"x")))))
        }
    }

    async fn read(
        body: impl Body<Data = Bytes, Error = axum::BoxError> + Send + 'static,
    ) -> Result<Bytes, String> {
        axum::body::to_bytes(axum::body::Body::new(body), 1 << 20)
            .await
            .map_err(|error| {
                std::error::Error::source(&error).map_or(error.to_string(), ToString::to_string)
            })
    }

    #[tokio::test]
    async fn a_body_that_trickles_past_the_deadline_fails() {
        let trickle = Trickle(Box::pin(tokio::time::sleep(Duration::ZERO)));
        let error = read(Deadline::new(trickle, Duration::from_millis(300)))
            .await
            .expect_err("the deadline ends the body");
        assert!(
            error.contains("the body did not arrive within 300ms"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_body_in_time_is_read_whole() {
        let body = axum::body::Body::from("{\"a\":1}");
        let bytes = read(Deadline::new(body, Duration::from_secs(10)))
            .await
            .unwrap();
        assert_eq!(&bytes[..], b"{\"a\":1}");
    }
}
