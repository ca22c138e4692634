//! [`Client`]: one tonic channel carrying the three services (`Ledger`,
//! `Mind`, and `Minds` for administration), with typed methods; a client
//! addresses one mind ([`Client::mind`]).

use std::time::Duration;

use futures_util::{FutureExt, Stream, StreamExt, TryStreamExt};
use pmm::v1;
use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::mind_client::MindClient;
use pmm::v1::minds_client::MindsClient;
use tonic::transport::Channel;

#[cfg(test)]
use crate::connect::normalize_addr;
pub use crate::connect::ConnectOptions;
use crate::connect::{address, endpoint, AuthChannel, Authorization, MindHeader};
use crate::error::{causes, ClientError};
use crate::options::{
    AppendOptions, ContextOptions, ExportOptions, HistoryOptions, ImportMode, MetricsOptions,
    NewEvent, ProjectionOptions, ReadOptions, SearchOptions,
};
use crate::subscribe::{self, Opener, RetryPolicy, SubItem, SubscribeSpec, WireStream};
use crate::types::{
    AppendOutcome, Appended, Event, Head, IdentityView, ImportOutcome, Page, Projection,
};

/// The default server address.
pub const DEFAULT_ADDR: &str = "http://127.0.0.1:50051";

/// A pmm client: the `Ledger`, `Mind` and `Minds` services over one
/// channel. Cheap to clone (clones share the connection).
///
/// A client addresses one mind: the server's `default` mind as connected,
/// another one through [`Client::mind`], which sends the `pmm-mind` header
/// with every `Ledger` and `Mind` call (subscriptions and exports
/// included). The `Minds` administration calls ([`Client::create_mind`],
/// [`Client::list_minds`], …) name their mind in the request instead.
#[derive(Debug, Clone)]
pub struct Client {
    ledger: LedgerClient<AuthChannel>,
    mind: MindClient<AuthChannel>,
    minds: MindsClient<AuthChannel>,
    request_timeout: Option<Duration>,
    /// What [`Client::mind`] needs to make a client of another mind.
    channel: Channel,
    auth: Authorization,
    max_message_bytes: usize,
}

impl Client {
    /// Connects to `addr` (e.g. `http://127.0.0.1:50051`, `127.0.0.1:50051`,
    /// or `https://pmm.example:50051` for TLS) with the default options.
    pub async fn connect(addr: impl AsRef<str>) -> Result<Self, ClientError> {
        Self::connect_with(addr, ConnectOptions::default()).await
    }

    /// Connects to `addr` with the given options.
    pub async fn connect_with(
        addr: impl AsRef<str>,
        options: ConnectOptions,
    ) -> Result<Self, ClientError> {
        let addr = address(addr.as_ref(), &options.tls);
        let endpoint = endpoint(&addr, &options)?;
        let channel = if options.lazy {
            endpoint.connect_lazy()
        } else {
            endpoint.connect().await.map_err(|e| ClientError::Connect {
                addr: addr.clone(),
                reason: causes(&e),
            })?
        };
        Ok(Self::from_channel(channel, &options))
    }

    /// A client over an existing channel (its calls carry
    /// `options.token`; the channel's own settings are kept).
    pub fn from_channel(channel: Channel, options: &ConnectOptions) -> Self {
        let auth = Authorization::new(options.token.clone());
        Self::build(
            channel,
            auth,
            options.max_message_bytes,
            options.request_timeout,
        )
    }

    fn build(
        channel: Channel,
        auth: Authorization,
        max: usize,
        request_timeout: Option<Duration>,
    ) -> Self {
        // Minds calls name their mind in the request: no header.
        let admin = auth.with_mind(None);
        Client {
            ledger: LedgerClient::with_interceptor(channel.clone(), auth.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            mind: MindClient::with_interceptor(channel.clone(), auth.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            minds: MindsClient::with_interceptor(channel.clone(), admin)
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            request_timeout,
            channel,
            auth,
            max_message_bytes: max,
        }
    }

    /// A client of the mind `name` on the same connection (a cheap clone):
    /// every `Ledger` and `Mind` call it makes carries `pmm-mind: NAME`.
    /// The name is checked first ([`pmm::mind::check_mind_name`]: 1 to 64
    /// characters of `a-z`, `0-9`, `.`, `_`, `-`, starting with a letter or
    /// a digit); another is [`ClientError::InvalidInput`], e.g.
    /// `mind name "Alice": must start with a-z or 0-9`, and no call is made.
    ///
    /// A server that does not hold the mind answers its calls `NOT_FOUND`
    /// (unless it creates minds on their first append); see
    /// [`Client::create_mind`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), pmm_client::ClientError> {
    /// use pmm_client::{Client, NewEvent};
    /// let client = Client::connect("http://127.0.0.1:50051").await?;
    /// let alice = client.mind("alice")?;
    /// alice.append(NewEvent::new("user", "hello, Alice")).await?;
    /// assert_eq!(alice.mind_name(), "alice");
    /// assert_eq!(client.mind_name(), "default"); // unchanged
    /// # Ok(())
    /// # }
    /// ```
    pub fn mind(&self, name: &str) -> Result<Client, ClientError> {
        let header = MindHeader::new(name)?;
        Ok(Self::build(
            self.channel.clone(),
            self.auth.with_mind(Some(header)),
            self.max_message_bytes,
            self.request_timeout,
        ))
    }

    /// The mind this client addresses: the name given to [`Client::mind`],
    /// else [`pmm::mind::DEFAULT_MIND`] (no header is sent).
    pub fn mind_name(&self) -> &str {
        self.auth
            .mind()
            .map_or(pmm::mind::DEFAULT_MIND, MindHeader::name)
    }

    /// This client with another timeout for unary calls (`None` = none).
    pub fn with_request_timeout(&self, timeout: Option<Duration>) -> Self {
        Client {
            request_timeout: timeout,
            ..self.clone()
        }
    }

    /// The generated `Ledger` stub, for calls not wrapped here (they carry
    /// the token and the mind header too).
    pub fn ledger(&self) -> LedgerClient<AuthChannel> {
        self.ledger.clone()
    }

    /// The generated `Mind` stub, for calls not wrapped here (they carry
    /// the token and the mind header too).
    pub fn mind_service(&self) -> MindClient<AuthChannel> {
        self.mind.clone()
    }

    /// The generated `Minds` stub, for calls not wrapped here (they carry
    /// the token; never the mind header, which `Minds` ignores).
    pub fn minds_service(&self) -> MindsClient<AuthChannel> {
        self.minds.clone()
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(timeout) = self.request_timeout {
            request.set_timeout(timeout);
        }
        request
    }

    // ----- Ledger -------------------------------------------------------

    /// Appends one event.
    pub async fn append(&self, event: NewEvent) -> Result<Appended, ClientError> {
        let outcome = self
            .append_batch(vec![event], AppendOptions::default())
            .await?;
        outcome
            .events
            .into_iter()
            .next()
            .ok_or_else(|| ClientError::Protocol("Append returned no event".to_string()))
    }

    /// Appends an atomic batch, with optimistic concurrency and derived views
    /// as of the write when asked.
    pub async fn append_batch(
        &self,
        events: Vec<NewEvent>,
        options: AppendOptions,
    ) -> Result<AppendOutcome, ClientError> {
        let views = if options.context.is_some() || options.metrics.is_some() {
            Some(v1::AppendViewsRequest {
                context: options.context.as_ref().map(ContextOptions::to_proto),
                metrics: options.metrics.as_ref().map(MetricsOptions::to_proto),
            })
        } else {
            None
        };
        let message = v1::AppendRequest {
            events: events.into_iter().map(NewEvent::into_proto).collect(),
            expected_last_id: options.expected_last_id,
            views,
        };
        let response = self.ledger().append(self.request(message)).await?;
        Ok(AppendOutcome::from(response.into_inner()))
    }

    /// Reads one page.
    pub async fn read(&self, options: &ReadOptions) -> Result<Page, ClientError> {
        let response = self.ledger().read(self.request(options.to_proto())).await?;
        Page::from_proto(response.into_inner())
    }

    /// Every event of a range, page after page (pages of
    /// `options.page_size`), as a stream. Stops when the range is exhausted
    /// as of the last page read.
    pub fn read_all(
        &self,
        options: ReadOptions,
    ) -> impl Stream<Item = Result<Event, ClientError>> + Send + 'static {
        self.pages(options)
            .map_ok(|page| futures_util::stream::iter(page.events.into_iter().map(Ok)))
            .try_flatten()
    }

    /// The pages of a range, one `Read` call each, following
    /// `next_start_id` until the range is exhausted.
    pub fn pages(
        &self,
        options: ReadOptions,
    ) -> impl Stream<Item = Result<Page, ClientError>> + Send + 'static {
        let client = self.clone();
        crate::paging::pages(
            move |page: ReadOptions| {
                let client = client.clone();
                async move { client.read(&page).await }
            },
            options,
        )
    }

    /// One event by id.
    pub async fn get_event(&self, id: u64) -> Result<Event, ClientError> {
        let response = self
            .ledger()
            .get_event(self.request(v1::GetEventRequest { id }))
            .await?
            .into_inner();
        let row = response
            .event
            .ok_or_else(|| ClientError::Protocol("GetEvent returned no event".to_string()))?;
        Event::from_row(row)
    }

    /// The ledger head.
    pub async fn head(&self) -> Result<Head, ClientError> {
        let response = self.ledger().head(self.request(v1::HeadRequest {})).await?;
        Ok(Head::from(response.into_inner()))
    }

    /// Verifies the hash chain (O(ledger size): consider
    /// `with_request_timeout(None)` for big ledgers).
    pub async fn verify_chain(&self) -> Result<v1::VerifyChainResponse, ClientError> {
        let response = self
            .ledger()
            .verify_chain(self.request(v1::VerifyChainRequest {}))
            .await?;
        Ok(response.into_inner())
    }

    /// Server and ledger statistics, with the limits in force.
    pub async fn stats(&self) -> Result<v1::StatsResponse, ClientError> {
        let response = self
            .ledger()
            .stats(self.request(v1::StatsRequest {}))
            .await?;
        Ok(response.into_inner())
    }

    /// Imports one batch of complete rows (atomic; identical rows already
    /// stored are skipped). See [`crate::import`] for whole files.
    pub async fn import(
        &self,
        rows: Vec<v1::Event>,
        mode: ImportMode,
    ) -> Result<ImportOutcome, ClientError> {
        let message = v1::ImportRequest {
            rows,
            mode: mode.to_proto() as i32,
        };
        let response = self.ledger().import(self.request(message)).await?;
        Ok(ImportOutcome::from(response.into_inner()))
    }

    /// Stored rows exactly as stored, in id order, in chunks.
    pub async fn export(
        &self,
        options: ExportOptions,
    ) -> Result<impl Stream<Item = Result<Vec<v1::Event>, ClientError>> + Send + 'static, ClientError>
    {
        let message = v1::ExportRequest {
            start_id: options.start_id,
            end_id: options.end_id,
            chunk_size: options.chunk_size,
        };
        let stream = self.ledger().export(message).await?.into_inner();
        Ok(stream.map_ok(|chunk| chunk.rows).map_err(ClientError::from))
    }

    /// A subscription without reconnection: its first failure is its last
    /// item.
    pub fn subscribe(
        &self,
        spec: SubscribeSpec,
    ) -> impl Stream<Item = Result<SubItem, ClientError>> + Send + 'static {
        let spec = SubscribeSpec {
            retry: RetryPolicy::never(),
            ..spec
        };
        subscribe::resilient(spec, self.opener())
    }

    /// A subscription that reconnects when the connection drops or the
    /// server restarts, resuming after the last position delivered: no gap,
    /// no duplicate (see [`crate::subscribe`]). Transient failures show up as
    /// [`SubItem::Reconnecting`]; other errors, or `spec.retry.max_attempts`
    /// failures in a row, end the stream with an `Err`.
    pub fn subscribe_resilient(
        &self,
        spec: SubscribeSpec,
    ) -> impl Stream<Item = Result<SubItem, ClientError>> + Send + 'static {
        subscribe::resilient(spec, self.opener())
    }

    fn opener(&self) -> Opener {
        let ledger = self.ledger();
        Box::new(move |request: v1::SubscribeRequest| {
            let mut ledger = ledger.clone();
            async move {
                let stream = ledger.subscribe(request).await?.into_inner();
                Ok(stream.boxed() as WireStream)
            }
            .boxed()
        })
    }

    // ----- Mind ---------------------------------------------------------

    /// The self-model projection, with the most recent expired
    /// commitments and warnings (see [`ProjectionOptions`]).
    pub async fn get_projection(
        &self,
        options: &ProjectionOptions,
    ) -> Result<Projection, ClientError> {
        let message = options.to_proto();
        let response = self
            .mind_service()
            .get_projection(self.request(message))
            .await?;
        Projection::from_proto(response.into_inner())
    }

    /// Name and traits.
    pub async fn get_identity(&self, as_of_id: Option<u64>) -> Result<IdentityView, ClientError> {
        let message = v1::GetIdentityRequest { as_of_id };
        let response = self
            .mind_service()
            .get_identity(self.request(message))
            .await?
            .into_inner();
        Ok(IdentityView {
            identity: response
                .identity
                .map(Into::into)
                .unwrap_or_else(|| v1::Identity::default().into()),
            as_of_id: response.as_of_id,
        })
    }

    /// The directives and the active set.
    pub async fn get_directives(
        &self,
        active_only: bool,
        as_of_id: Option<u64>,
    ) -> Result<v1::GetDirectivesResponse, ClientError> {
        let message = v1::GetDirectivesRequest {
            active_only,
            as_of_id,
        };
        let response = self
            .mind_service()
            .get_directives(self.request(message))
            .await?;
        Ok(response.into_inner())
    }

    /// IAS, GAS, stage, and the diagnosis when asked.
    pub async fn get_metrics(
        &self,
        options: &MetricsOptions,
    ) -> Result<v1::GetMetricsResponse, ClientError> {
        let response = self
            .mind_service()
            .get_metrics(self.request(options.to_proto()))
            .await?;
        Ok(response.into_inner())
    }

    /// IAS, GAS and the stage as the ledger grew, from one replay on the
    /// server (O(`to_id`)); the last point equals `get_metrics` as of
    /// `to_id`.
    pub async fn metrics_history(
        &self,
        options: &HistoryOptions,
    ) -> Result<v1::GetMetricsHistoryResponse, ClientError> {
        let response = self
            .mind_service()
            .get_metrics_history(self.request(options.to_proto()))
            .await?;
        Ok(response.into_inner())
    }

    /// The context block, and its breakdown when
    /// [`ContextOptions::breakdown`] asks for it.
    pub async fn get_context(
        &self,
        options: &ContextOptions,
    ) -> Result<v1::GetContextResponse, ClientError> {
        let response = self
            .mind_service()
            .get_context(self.request(options.to_proto()))
            .await?;
        Ok(response.into_inner())
    }

    /// The embedding of a text.
    pub async fn embed(&self, text: impl Into<String>) -> Result<v1::EmbedResponse, ClientError> {
        let message = v1::EmbedRequest { text: text.into() };
        let response = self.mind_service().embed(self.request(message)).await?;
        Ok(response.into_inner())
    }

    /// The events most similar to a query text.
    pub async fn search(
        &self,
        query: impl Into<String>,
        options: &SearchOptions,
    ) -> Result<v1::SearchResponse, ClientError> {
        let message = v1::SearchRequest {
            query: query.into(),
            top_k: options.top_k,
            kinds: options.kinds.clone(),
        };
        let response = self.mind_service().search(self.request(message)).await?;
        Ok(response.into_inner())
    }
}

impl Client {
    // ----- Minds (administration; the admin role) ------------------------

    /// Creates the empty mind `name` (`ALREADY_EXISTS` if it exists;
    /// `FAILED_PRECONDITION` from a server serving one file, `--db`).
    pub async fn create_mind(&self, name: impl Into<String>) -> Result<v1::MindInfo, ClientError> {
        let message = v1::CreateMindRequest { name: name.into() };
        let response = self
            .minds
            .clone()
            .create_mind(self.request(message))
            .await?;
        Ok(response.into_inner())
    }

    /// What the mind `name` holds (`NOT_FOUND` if the server has no such
    /// mind).
    pub async fn get_mind(&self, name: impl Into<String>) -> Result<v1::MindInfo, ClientError> {
        let message = v1::GetMindRequest { name: name.into() };
        let response = self.minds.clone().get_mind(self.request(message)).await?;
        Ok(response.into_inner())
    }

    /// One page of the minds on the server, in name order: `page_size`
    /// names (0 = the server's default, 100; at most 1000), after the page
    /// whose `next_page_token` is `page_token` (empty for the first page).
    /// [`Client::list_all_minds`] follows the pages.
    pub async fn list_minds(
        &self,
        page_size: u32,
        page_token: impl Into<String>,
    ) -> Result<v1::ListMindsResponse, ClientError> {
        let message = v1::ListMindsRequest {
            page_size,
            page_token: page_token.into(),
        };
        let response = self.minds.clone().list_minds(self.request(message)).await?;
        Ok(response.into_inner())
    }

    /// The pages of the minds listing, one `ListMinds` call each
    /// (`page_size` as in [`Client::list_minds`]), following
    /// `next_page_token` until a page has none. A server handing back a
    /// token it already gave ends the stream with an error rather than
    /// looping.
    pub fn minds_pages(
        &self,
        page_size: u32,
    ) -> impl Stream<Item = Result<v1::ListMindsResponse, ClientError>> + Send + 'static {
        let client = self.clone();
        // State: the next token, or None when done; the tokens seen.
        futures_util::stream::unfold(
            (Some(String::new()), Vec::<String>::new()),
            move |(token, mut seen)| {
                let client = client.clone();
                async move {
                    let token = token?;
                    match client.list_minds(page_size, token.clone()).await {
                        Ok(page) => {
                            let next = page.next_page_token.clone();
                            if next.is_empty() {
                                return Some((Ok(page), (None, seen)));
                            }
                            seen.push(token);
                            if seen.contains(&next) {
                                let err = ClientError::Protocol(format!(
                                    "ListMinds gave the page token {next:?} twice"
                                ));
                                return Some((Err(err), (None, seen)));
                            }
                            Some((Ok(page), (Some(next), seen)))
                        }
                        Err(err) => Some((Err(err), (None, seen))),
                    }
                }
            },
        )
    }

    /// Every mind on the server, in name order, from all the pages of
    /// [`Client::minds_pages`].
    pub async fn list_all_minds(&self, page_size: u32) -> Result<Vec<v1::MindEntry>, ClientError> {
        let pages: Vec<v1::ListMindsResponse> = self.minds_pages(page_size).try_collect().await?;
        Ok(pages.into_iter().flat_map(|page| page.minds).collect())
    }

    /// Deletes the mind `name`: the server closes it (its subscriptions end
    /// `UNAVAILABLE`, queued appends are written first) and moves its
    /// folder to the data directory's trash. `confirm` must repeat the name
    /// (`FAILED_PRECONDITION` otherwise, nothing deleted); `default` cannot
    /// be deleted. Returns where the folder went, on the server.
    pub async fn delete_mind(
        &self,
        name: impl Into<String>,
        confirm: impl Into<String>,
    ) -> Result<v1::DeleteMindResponse, ClientError> {
        let message = v1::DeleteMindRequest {
            name: name.into(),
            confirm: confirm.into(),
        };
        let response = self
            .minds
            .clone()
            .delete_mind(self.request(message))
            .await?;
        Ok(response.into_inner())
    }

    /// A consistent copy of the mind `name`'s ledger while it is served
    /// (SQLite's online backup), written on the server under its
    /// `--backup-dir`: at `path` relative to it (no `..`, not absolute), or
    /// by default at `<name>/<UTC time>.db`. `ALREADY_EXISTS` if the file
    /// exists. May take as long as copying the file: consider
    /// `with_request_timeout(None)` for big minds.
    pub async fn backup_mind(
        &self,
        name: impl Into<String>,
        path: Option<String>,
    ) -> Result<v1::BackupMindResponse, ClientError> {
        let message = v1::BackupMindRequest {
            name: name.into(),
            path: path.unwrap_or_default(),
        };
        let response = self
            .minds
            .clone()
            .backup_mind(self.request(message))
            .await?;
        Ok(response.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_get_a_scheme() {
        assert_eq!(normalize_addr("127.0.0.1:1"), "http://127.0.0.1:1");
        assert_eq!(normalize_addr(" http://h:2 "), "http://h:2");
        assert_eq!(normalize_addr("https://h"), "https://h");
    }

    #[tokio::test]
    async fn connecting_to_nothing_says_where() {
        // Port 9 (discard) on loopback is closed on any sane test machine.
        let options = ConnectOptions {
            connect_timeout: Duration::from_millis(500),
            ..Default::default()
        };
        let err = Client::connect_with("127.0.0.1:9", options)
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Connect { .. }), "{err:?}");
        assert!(err
            .to_string()
            .starts_with("cannot connect to http://127.0.0.1:9"));
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn a_bad_address_is_refused() {
        let err = Client::connect("http://[::1").await.unwrap_err();
        assert!(matches!(err, ClientError::InvalidAddress { .. }), "{err:?}");
    }
}
