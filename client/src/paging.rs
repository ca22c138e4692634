//! Paging through `Read`: each page's `next_start_id` is the next request's
//! `start_id`.

use std::future::Future;

use futures_util::stream::{self, Stream};

use crate::error::ClientError;
use crate::options::ReadOptions;
use crate::types::Page;

/// The next request after `page`, or `None` when the range is exhausted.
pub(crate) fn next_request(current: &ReadOptions, page: &Page) -> Option<ReadOptions> {
    let next = page.next_start_id?;
    // A full page always carries events; an empty one with a next position
    // would loop forever.
    if page.events.is_empty() || current.start_id == Some(next) {
        return None;
    }
    Some(ReadOptions {
        start_id: Some(next),
        ..current.clone()
    })
}

/// The pages of a range, as a stream, each fetched by `read`; an error
/// ends it.
pub(crate) fn pages<F, Fut>(
    read: F,
    options: ReadOptions,
) -> impl Stream<Item = Result<Page, ClientError>> + Send + 'static
where
    F: Fn(ReadOptions) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page, ClientError>> + Send + 'static,
{
    stream::unfold(Some(options), move |state| {
        let fetched = state.map(|options| {
            let page = read(options.clone());
            async move { (page.await, options) }
        });
        async move {
            let (page, options) = fetched?.await;
            match page {
                Ok(page) => {
                    let next = next_request(&options, &page);
                    Some((Ok(page), next))
                }
                Err(err) => Some((Err(err), None)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Event;

    fn page(ids: &[u64], next: Option<u64>) -> Page {
        Page {
            events: ids
                .iter()
                .map(|&id| Event {
                    id,
                    ts: String::new(),
                    kind: "k".into(),
                    content: String::new(),
                    meta: serde_json::Value::Null,
                    prev_hash: None,
                    hash: None,
                })
                .collect(),
            next_start_id: next,
            as_of_id: 10,
        }
    }

    #[test]
    fn follows_next_start_id_and_keeps_the_filter() {
        let opts = ReadOptions {
            kinds: vec!["user".into()],
            backward: true,
            page_size: 2,
            ..Default::default()
        };
        let next = next_request(&opts, &page(&[10, 9], Some(8))).unwrap();
        assert_eq!(next.start_id, Some(8));
        assert_eq!(next.kinds, ["user"]);
        assert!(next.backward);
        assert_eq!(next_request(&next, &page(&[8], None)), None);
    }

    #[test]
    fn stops_on_a_page_that_would_loop() {
        let opts = ReadOptions {
            start_id: Some(5),
            ..Default::default()
        };
        assert_eq!(next_request(&opts, &page(&[], Some(7))), None);
        assert_eq!(next_request(&opts, &page(&[5], Some(5))), None);
    }
}
