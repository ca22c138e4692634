//! The tower layer that checks `authorization: Bearer …` on every call
//! against [`rules`](super::rules) before any service sees it. A refused
//! call is answered here with UNAUTHENTICATED (no token, or one not listed)
//! or PERMISSION_DENIED (a role too low), and nothing of it runs.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready};
use http::HeaderMap;
use pmm::token::{Role, AUTHORIZATION, BEARER_PREFIX};
use tonic::body::Body;
use tonic::Status;
use tower_layer::Layer;
use tower_service::Service;

use super::rules::{access, Access};
use super::tokens::{TokenSet, Tokens};

/// Why a call is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("missing authorization: Bearer token")]
    Missing,
    #[error("unknown token")]
    Unknown,
    #[error("this call needs role {needed}; token '{name}' has role {has}")]
    RoleTooLow {
        needed: Role,
        name: String,
        has: Role,
    },
}

impl From<Denied> for Status {
    fn from(denied: Denied) -> Status {
        let message = denied.to_string();
        match denied {
            Denied::Missing | Denied::Unknown => Status::unauthenticated(message),
            Denied::RoleTooLow { .. } => Status::permission_denied(message),
        }
    }
}

/// Decides a call to `path` carrying `headers`. The token's name is logged
/// at debug; the token and its digest never are.
pub fn authorize(set: &TokenSet, path: &str, headers: &HeaderMap) -> Result<(), Denied> {
    let needed = match access(path) {
        Access::Open => return Ok(()),
        Access::AnyToken => None,
        Access::Role(role) => Some(role),
    };
    let token = bearer(headers).ok_or(Denied::Missing)?;
    let holder = set.find(token).ok_or(Denied::Unknown)?;
    tracing::debug!(token = holder.name, role = %holder.role, path, "token accepted");
    match needed {
        Some(needed) if holder.role < needed => Err(Denied::RoleTooLow {
            needed,
            name: holder.name.to_string(),
            has: holder.role,
        }),
        _ => Ok(()),
    }
}

/// The token after `Bearer ` (the scheme's case does not matter).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_at_checked(BEARER_PREFIX.len())?;
    (scheme.eq_ignore_ascii_case(BEARER_PREFIX) && !token.is_empty()).then_some(token)
}

/// Checks every call when tokens are configured; passes every call through
/// when they are not.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    tokens: Option<Arc<Tokens>>,
}

impl AuthLayer {
    pub fn new(tokens: Option<Arc<Tokens>>) -> Self {
        AuthLayer { tokens }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            tokens: self.tokens.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Clone, Debug)]
pub struct Auth<S> {
    inner: S,
    tokens: Option<Arc<Tokens>>,
}

impl<S, B> Service<http::Request<B>> for Auth<S>
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
        if let Some(tokens) = &self.tokens {
            let decided = authorize(&tokens.current(), request.uri().path(), request.headers());
            if let Err(denied) = decided {
                let status = Status::from(denied);
                return Either::Left(futures_util::future::ready(Ok(status.into_http())));
            }
        }
        Either::Right(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use pmm::token::digest;

    use super::*;
    use crate::auth::file::TokenEntry;

    fn set() -> TokenSet {
        TokenSet::new(
            [
                ("r", Role::Reader, "read-token"),
                ("w", Role::Writer, "write-token"),
                ("a", Role::Admin, "admin-token"),
            ]
            .into_iter()
            .map(|(name, role, token)| TokenEntry {
                name: name.to_string(),
                role,
                digest: digest(token),
            })
            .collect(),
        )
    }

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn roles_admit_what_they_should() {
        let set = set();
        let append = "/pmm.v1.Ledger/Append";
        let import = "/pmm.v1.Ledger/Import";
        let read = "/pmm.v1.Ledger/Read";
        assert_eq!(authorize(&set, read, &with("Bearer read-token")), Ok(()));
        assert_eq!(
            authorize(&set, append, &with("Bearer read-token")),
            Err(Denied::RoleTooLow {
                needed: Role::Writer,
                name: "r".into(),
                has: Role::Reader
            })
        );
        assert_eq!(authorize(&set, append, &with("Bearer write-token")), Ok(()));
        assert!(authorize(&set, import, &with("Bearer write-token")).is_err());
        assert_eq!(authorize(&set, import, &with("bearer admin-token")), Ok(()));
        assert!(authorize(&set, "/pmm.v1.Minds/Delete", &with("Bearer write-token")).is_err());
        assert_eq!(
            authorize(&set, "/pmm.v1.Minds/Delete", &with("Bearer admin-token")),
            Ok(())
        );
    }

    #[test]
    fn missing_malformed_and_unknown_tokens() {
        let set = set();
        let read = "/pmm.v1.Ledger/Read";
        assert_eq!(
            authorize(&set, read, &HeaderMap::new()),
            Err(Denied::Missing)
        );
        for value in ["read-token", "Basic read-token", "Bearer ", "Bearer"] {
            assert_eq!(
                authorize(&set, read, &with(value)),
                Err(Denied::Missing),
                "{value}"
            );
        }
        for value in ["Bearer read-token ", "Bearer  read-token", "Bearer other"] {
            assert_eq!(
                authorize(&set, read, &with(value)),
                Err(Denied::Unknown),
                "{value}"
            );
        }
        // Health is open; reflection takes any valid token.
        let health = "/grpc.health.v1.Health/Check";
        assert_eq!(authorize(&set, health, &HeaderMap::new()), Ok(()));
        let reflection = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
        assert_eq!(
            authorize(&set, reflection, &HeaderMap::new()),
            Err(Denied::Missing)
        );
        assert_eq!(
            authorize(&set, reflection, &with("Bearer read-token")),
            Ok(())
        );
    }

    #[test]
    fn denials_map_to_their_codes_and_messages() {
        let status = Status::from(Denied::Missing);
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.message(), "missing authorization: Bearer token");
        assert_eq!(
            Status::from(Denied::Unknown).code(),
            tonic::Code::Unauthenticated
        );
        let status = Status::from(Denied::RoleTooLow {
            needed: Role::Writer,
            name: "ci".into(),
            has: Role::Reader,
        });
        assert_eq!(status.code(), tonic::Code::PermissionDenied);
        assert_eq!(
            status.message(),
            "this call needs role writer; token 'ci' has role reader"
        );
    }
}
