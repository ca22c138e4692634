//! `pmm.v1.Ledger`: append, read, subscribe, verify, stats, import, export.
//! Each RPC validates its request ([`super::validate`]), asks the ledger,
//! and shapes the answer ([`super::respond`]).

use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream;
use pmm::v1::{self, ledger_server};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::addressing::mind_of;
use super::admission::{Admission, Work};
use super::error::Error;
use super::gate::{blocking, mind_and_request, Gate};
use super::validate::{AppendCommand, Validate};
use super::{mind, respond};
use crate::config::Limits;
use crate::ledger::handle::Ledger;
use crate::store::{Direction, PageQuery};
use crate::transport::Connections;

/// The Ledger service.
#[derive(Clone, Debug)]
pub struct LedgerService {
    gate: Arc<Gate>,
    limits: Limits,
    admission: Arc<Admission>,
    /// For the connection lines of Stats.
    connections: Option<Connections>,
}

impl LedgerService {
    pub fn new(gate: Arc<Gate>, limits: Limits, admission: Arc<Admission>) -> Self {
        LedgerService {
            gate,
            limits,
            admission,
            connections: None,
        }
    }

    /// Stats reports these connections' settings and counters.
    pub fn with_connections(self, connections: Connections) -> Self {
        LedgerService {
            connections: Some(connections),
            ..self
        }
    }

    /// The open mind the call is for and the validated request.
    async fn open<R: Validate>(
        &self,
        request: Request<R>,
    ) -> Result<(Arc<Ledger>, R::Valid), Error> {
        mind_and_request(&self.gate, &self.limits, request, false).await
    }

    async fn serve_append(
        &self,
        request: Request<v1::AppendRequest>,
    ) -> Result<v1::AppendResponse, Error> {
        // An Append may create its mind (--create-minds-on-append).
        let (ledger, AppendCommand { batch, views }) =
            mind_and_request(&self.gate, &self.limits, request, true).await?;
        let outcome = ledger.append(batch).await?;
        let views = match (views, outcome.snapshot.as_ref()) {
            (Some(wanted), Some(snapshot)) => Some(v1::AppendViews {
                context: match wanted.context {
                    Some(q) => Some(mind::context(&ledger, snapshot, &q).await?),
                    None => None,
                },
                metrics: match wanted.metrics {
                    Some(include_diagnosis) => Some(respond::metrics(snapshot, include_diagnosis)?),
                    None => None,
                },
            }),
            _ => None,
        };
        Ok(v1::AppendResponse {
            events: outcome.events.iter().map(respond::appended).collect(),
            head: Some(respond::head(&outcome.head)),
            views,
        })
    }

    async fn serve_read(
        &self,
        request: Request<v1::ReadRequest>,
    ) -> Result<v1::ReadResponse, Error> {
        let (ledger, query) = self.open(request).await?;
        let as_of_id = ledger.head().last_id;
        let direction = query.direction;
        let page = blocking(move || Ok(ledger.read_page(&query)?)).await?;
        let next_start_id = page
            .cut
            .then(|| {
                page.events.last().map(|r| match direction {
                    Direction::Forward => r.id + 1,
                    Direction::Backward => r.id - 1,
                })
            })
            .flatten()
            .filter(|id| *id >= 1)
            .map(|id| id as u64);
        Ok(v1::ReadResponse {
            events: page.events.iter().map(respond::event).collect(),
            next_start_id,
            as_of_id: as_of_id.max(0) as u64,
        })
    }

    async fn serve_get_event(
        &self,
        request: Request<v1::GetEventRequest>,
    ) -> Result<v1::GetEventResponse, Error> {
        let (ledger, id) = self.open(request).await?;
        let last_id = ledger.head().last_id;
        let row = blocking(move || Ok(ledger.event(id)?)).await?;
        match row {
            Some(row) => Ok(v1::GetEventResponse {
                event: Some(respond::event(&row)),
            }),
            None => Err(Error::NotFound { id, last_id }),
        }
    }

    async fn serve_subscribe(
        &self,
        request: Request<v1::SubscribeRequest>,
    ) -> Result<BoxStream<v1::SubscribeResponse>, Error> {
        let (ledger, spec) = self.open(request).await?;
        let items = ledger.subscribe(spec)?;
        // A delivery's share of the subscription's byte budget is given
        // back once it has become a message.
        let stream = ReceiverStream::new(items).map(|delivery| match delivery {
            Ok(delivery) => Ok(respond::subscription_item(delivery.item)),
            Err(e) => Err(Status::from(Error::from(e))),
        });
        Ok(Box::pin(stream))
    }

    async fn serve_verify_chain(
        &self,
        request: Request<v1::VerifyChainRequest>,
    ) -> Result<v1::VerifyChainResponse, Error> {
        let (ledger, ()) = self.open(request).await?;
        let last_id = ledger.head().last_id;
        let result = self
            .admission
            .run(Work::Verify, move |cancel| {
                Ok(ledger.verify(last_id, cancel)?)
            })
            .await?;
        Ok(respond::verification(result, last_id))
    }

    async fn serve_stats(
        &self,
        request: Request<v1::StatsRequest>,
    ) -> Result<v1::StatsResponse, Error> {
        let mind = mind_of(&request);
        let (ledger, ()) = self.open(request).await?;
        let stats = blocking(move || Ok(ledger.stats()?)).await?;
        let connections = self.connections.as_ref().map(Connections::report);
        let minds = self.gate.registry()?.figures();
        Ok(respond::stats(
            stats,
            &self.limits,
            &self.admission.figures(),
            connections.as_ref(),
            (&mind, minds),
        ))
    }

    async fn serve_import(
        &self,
        request: Request<v1::ImportRequest>,
    ) -> Result<v1::ImportResponse, Error> {
        let (ledger, batch) = self.open(request).await?;
        let outcome = ledger.import(batch).await?;
        Ok(v1::ImportResponse {
            imported: outcome.imported,
            skipped: outcome.skipped,
            head: Some(respond::head(&outcome.head)),
        })
    }

    async fn serve_export(
        &self,
        request: Request<v1::ExportRequest>,
    ) -> Result<BoxStream<v1::ExportResponse>, Error> {
        let (ledger, query) = self.open(request).await?;
        // Carried in the stream's state: the slot is free again when the
        // stream ends or the client goes away.
        let admitted = self.admission.admit(Work::Export)?;
        let end = query.end.unwrap_or_else(|| ledger.head().last_id);
        let first = PageQuery {
            start: query.start,
            end: Some(end),
            direction: Direction::Forward,
            kinds: Vec::new(),
            limit: query.chunk,
            max_bytes: query.max_bytes,
        };
        // Each chunk is read only when the transport asks for the next one:
        // at most one chunk is built ahead, and a client gone stops it.
        let chunks = stream::unfold(Some((first, admitted)), move |next| {
            let ledger = Arc::clone(&ledger);
            async move {
                let (query, admitted) = next?;
                let reading = query.clone();
                let page = blocking(move || Ok(ledger.read_page(&reading)?)).await;
                let page = match page {
                    Ok(page) => page,
                    Err(e) => return Some((Err(Status::from(e)), None)),
                };
                let following = match page.events.last() {
                    Some(last) if page.cut && last.id < end => Some((
                        PageQuery {
                            start: last.id + 1,
                            ..query
                        },
                        admitted,
                    )),
                    _ => None,
                };
                if page.events.is_empty() {
                    return None;
                }
                let rows = page.events.iter().map(respond::event).collect();
                Some((Ok(v1::ExportResponse { rows }), following))
            }
        });
        Ok(Box::pin(chunks))
    }
}

/// Requests without parameters validate to `()`.
macro_rules! no_parameters {
    ($($request:ty),*) => {$(
        impl Validate for $request {
            type Valid = ();
            fn validate(self, _: &Limits) -> Result<(), super::validate::RequestError> {
                Ok(())
            }
        }
    )*};
}
no_parameters!(v1::HeadRequest, v1::VerifyChainRequest, v1::StatsRequest);

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl ledger_server::Ledger for LedgerService {
    async fn append(
        &self,
        request: Request<v1::AppendRequest>,
    ) -> Result<Response<v1::AppendResponse>, Status> {
        Ok(Response::new(self.serve_append(request).await?))
    }

    async fn read(
        &self,
        request: Request<v1::ReadRequest>,
    ) -> Result<Response<v1::ReadResponse>, Status> {
        Ok(Response::new(self.serve_read(request).await?))
    }

    async fn get_event(
        &self,
        request: Request<v1::GetEventRequest>,
    ) -> Result<Response<v1::GetEventResponse>, Status> {
        Ok(Response::new(self.serve_get_event(request).await?))
    }

    async fn head(
        &self,
        request: Request<v1::HeadRequest>,
    ) -> Result<Response<v1::LedgerHead>, Status> {
        let (ledger, ()) = self.open(request).await?;
        Ok(Response::new(respond::head(&ledger.head())))
    }

    type SubscribeStream = BoxStream<v1::SubscribeResponse>;

    async fn subscribe(
        &self,
        request: Request<v1::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        Ok(Response::new(self.serve_subscribe(request).await?))
    }

    async fn verify_chain(
        &self,
        request: Request<v1::VerifyChainRequest>,
    ) -> Result<Response<v1::VerifyChainResponse>, Status> {
        Ok(Response::new(self.serve_verify_chain(request).await?))
    }

    async fn stats(
        &self,
        request: Request<v1::StatsRequest>,
    ) -> Result<Response<v1::StatsResponse>, Status> {
        Ok(Response::new(self.serve_stats(request).await?))
    }

    async fn import(
        &self,
        request: Request<v1::ImportRequest>,
    ) -> Result<Response<v1::ImportResponse>, Status> {
        Ok(Response::new(self.serve_import(request).await?))
    }

    type ExportStream = BoxStream<v1::ExportResponse>;

    async fn export(
        &self,
        request: Request<v1::ExportRequest>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        Ok(Response::new(self.serve_export(request).await?))
    }
}
