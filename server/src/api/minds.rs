//! `pmm.v1.Minds`: create, look at, list, delete and back up the minds of
//! this server (the admin role). The names come in the requests, checked
//! like the `pmm-mind` header; the work is the registry's
//! ([`crate::minds`]).

use std::path::PathBuf;
use std::sync::Arc;

use pmm::mind::check_mind_name;
use pmm::v1::{self, minds_server};
use tonic::{Request, Response, Status};

use super::error::Error;
use super::gate::{blocking, Gate};
use super::validate::RequestError;
use crate::ledger::handle::Ledger;
use crate::minds::backup;
use crate::minds::registry::{utc_stamp, MindError, Registry};

/// Names per ListMinds page by default, and at most.
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1000;

/// The Minds service.
#[derive(Clone, Debug)]
pub struct MindsService {
    gate: Arc<Gate>,
    backup_dir: PathBuf,
}

fn invalid(field: &str, why: String) -> Error {
    Error::Request(RequestError::Invalid {
        field: field.to_string(),
        why,
    })
}

/// A mind's name from a request field.
fn name(field: &str, value: &str) -> Result<String, Error> {
    check_mind_name(value).map_err(|why| invalid(field, format!("{value:?} {why}")))?;
    Ok(value.to_string())
}

impl MindsService {
    pub fn new(gate: Arc<Gate>, backup_dir: PathBuf) -> Self {
        MindsService { gate, backup_dir }
    }

    async fn serve_create(&self, request: v1::CreateMindRequest) -> Result<v1::MindInfo, Error> {
        let name = name("name", &request.name)?;
        let registry = self.gate.registry()?;
        let ledger = registry.create(&name).await?;
        tracing::info!(mind = %name, "mind created");
        Ok(info(&registry, &name, Some(ledger)).await)
    }

    async fn serve_get(&self, request: v1::GetMindRequest) -> Result<v1::MindInfo, Error> {
        let name = name("name", &request.name)?;
        let registry = self.gate.registry()?;
        if let Some(ledger) = registry.if_open(&name) {
            return Ok(info(&registry, &name, Some(ledger)).await);
        }
        let Some(path) = registry
            .layout()
            .db_path(&name)
            .filter(|_| registry.layout().exists(&name))
        else {
            return Err(registry.not_found(&name).into());
        };
        // A closed mind is read from its file, not opened.
        let head = blocking(move || Ok(crate::store::head_of_file(&path)?)).await?;
        let mut answer = info(&registry, &name, None).await;
        answer.events = head.count;
        answer.last_id = head.last_id.max(0) as u64;
        answer.last_hash = head.last_hash.unwrap_or_default();
        Ok(answer)
    }

    async fn serve_list(
        &self,
        request: v1::ListMindsRequest,
    ) -> Result<v1::ListMindsResponse, Error> {
        let page = match request.page_size as usize {
            0 => DEFAULT_PAGE,
            n if n > MAX_PAGE => {
                return Err(invalid(
                    "page_size",
                    format!("{n} is above the maximum of {MAX_PAGE}"),
                ))
            }
            n => n,
        };
        let after = request.page_token;
        if !after.is_empty() {
            name("page_token", &after)?;
        }
        let registry = self.gate.registry()?;
        let lister = Arc::clone(&registry);
        let (names, more) = blocking(move || {
            Ok(lister
                .layout()
                .list(&after, page)
                .map_err(MindError::from)?)
        })
        .await?;
        let next_page_token = match (more, names.last()) {
            (true, Some(last)) => last.clone(),
            _ => String::new(),
        };
        let minds = names
            .into_iter()
            .map(|name| v1::MindEntry {
                bytes: registry.layout().bytes(&name),
                open: registry.if_open(&name).is_some(),
                name,
            })
            .collect();
        Ok(v1::ListMindsResponse {
            minds,
            next_page_token,
        })
    }

    async fn serve_delete(
        &self,
        request: v1::DeleteMindRequest,
    ) -> Result<v1::DeleteMindResponse, Error> {
        let name = name("name", &request.name)?;
        if request.confirm != name {
            return Err(Error::Unconfirmed {
                name,
                confirm: request.confirm,
            });
        }
        let registry = self.gate.registry()?;
        let trash = registry.delete(&name).await?;
        tracing::info!(mind = %name, trash = %trash.display(), "mind deleted (moved to the trash)");
        Ok(v1::DeleteMindResponse {
            trash_path: trash.display().to_string(),
        })
    }

    async fn serve_backup(
        &self,
        request: v1::BackupMindRequest,
    ) -> Result<v1::BackupMindResponse, Error> {
        let name = name("name", &request.name)?;
        let target = backup::target(&self.backup_dir, &request.path, &name, &utc_stamp())?;
        let registry = self.gate.registry()?;
        // Opened (or kept open) for the copy: the registry knows the file
        // and nobody closes or deletes it meanwhile.
        let ledger = registry.mind(&name, false).await?;
        let from = ledger.config().path.clone();
        let report = blocking(move || {
            let report = backup::backup(&from, &target)?;
            drop(ledger);
            Ok(report)
        })
        .await?;
        tracing::info!(mind = %name, path = %report.path.display(), events = report.events, "mind backed up");
        Ok(v1::BackupMindResponse {
            path: report.path.display().to_string(),
            events: report.events,
            last_id: report.last_id,
            last_hash: report.last_hash,
            bytes: report.bytes,
        })
    }
}

/// A mind's info; from its open ledger when given.
async fn info(registry: &Registry, name: &str, ledger: Option<Arc<Ledger>>) -> v1::MindInfo {
    let mut answer = v1::MindInfo {
        name: name.to_string(),
        bytes: registry.layout().bytes(name),
        ..Default::default()
    };
    if let Some(ledger) = ledger {
        let head = ledger.head();
        answer.events = head.count;
        answer.last_id = head.last_id.max(0) as u64;
        answer.last_hash = head.last_hash.clone().unwrap_or_default();
        answer.open = true;
        answer.memory_bytes = ledger.memory_bytes();
    }
    answer
}

#[tonic::async_trait]
impl minds_server::Minds for MindsService {
    async fn create_mind(
        &self,
        request: Request<v1::CreateMindRequest>,
    ) -> Result<Response<v1::MindInfo>, Status> {
        Ok(Response::new(
            self.serve_create(request.into_inner()).await?,
        ))
    }

    async fn get_mind(
        &self,
        request: Request<v1::GetMindRequest>,
    ) -> Result<Response<v1::MindInfo>, Status> {
        Ok(Response::new(self.serve_get(request.into_inner()).await?))
    }

    async fn list_minds(
        &self,
        request: Request<v1::ListMindsRequest>,
    ) -> Result<Response<v1::ListMindsResponse>, Status> {
        Ok(Response::new(self.serve_list(request.into_inner()).await?))
    }

    async fn delete_mind(
        &self,
        request: Request<v1::DeleteMindRequest>,
    ) -> Result<Response<v1::DeleteMindResponse>, Status> {
        Ok(Response::new(
            self.serve_delete(request.into_inner()).await?,
        ))
    }

    async fn backup_mind(
        &self,
        request: Request<v1::BackupMindRequest>,
    ) -> Result<Response<v1::BackupMindResponse>, Status> {
        Ok(Response::new(
            self.serve_backup(request.into_inner()).await?,
        ))
    }
}
