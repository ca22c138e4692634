//! The one table of who may call what, keyed by the gRPC path. A new RPC
//! is one line here; an RPC missing from the table needs `admin`, so that
//! forgetting a line can only make a call harder to reach, never easier.

use pmm::token::Role;

/// What a call needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token (health, for probes).
    Open,
    /// Any valid token, whatever its role (reflection).
    AnyToken,
    /// A token with at least this role.
    Role(Role),
}

use Access::{AnyToken, Open};
const READER: Access = Access::Role(Role::Reader);
const WRITER: Access = Access::Role(Role::Writer);
const ADMIN: Access = Access::Role(Role::Admin);

/// `/service/method`, or `/service/*` for every method of a service.
const RULES: &[(&str, Access)] = &[
    ("/grpc.health.v1.Health/*", Open),
    ("/grpc.reflection.v1.ServerReflection/*", AnyToken),
    ("/grpc.reflection.v1alpha.ServerReflection/*", AnyToken),
    ("/pmm.v1.Ledger/Append", WRITER),
    ("/pmm.v1.Ledger/Read", READER),
    ("/pmm.v1.Ledger/GetEvent", READER),
    ("/pmm.v1.Ledger/Head", READER),
    ("/pmm.v1.Ledger/Subscribe", READER),
    ("/pmm.v1.Ledger/VerifyChain", READER),
    ("/pmm.v1.Ledger/Stats", READER),
    ("/pmm.v1.Ledger/Import", ADMIN),
    ("/pmm.v1.Ledger/Export", READER),
    ("/pmm.v1.Mind/GetProjection", READER),
    ("/pmm.v1.Mind/GetIdentity", READER),
    ("/pmm.v1.Mind/GetDirectives", READER),
    ("/pmm.v1.Mind/GetMetrics", READER),
    ("/pmm.v1.Mind/GetMetricsHistory", READER),
    ("/pmm.v1.Mind/GetContext", READER),
    ("/pmm.v1.Mind/Embed", READER),
    ("/pmm.v1.Mind/Search", READER),
    ("/pmm.v1.Minds/CreateMind", ADMIN),
    ("/pmm.v1.Minds/GetMind", ADMIN),
    ("/pmm.v1.Minds/ListMinds", ADMIN),
    ("/pmm.v1.Minds/DeleteMind", ADMIN),
    ("/pmm.v1.Minds/BackupMind", ADMIN),
];

/// What a path not in [`RULES`] needs.
const UNLISTED: Access = ADMIN;

/// What a call to `path` needs.
pub fn access(path: &str) -> Access {
    listed(path).unwrap_or(UNLISTED)
}

/// The line of `path`, or of its service.
fn listed(path: &str) -> Option<Access> {
    RULES
        .iter()
        .find(|(rule, _)| match rule.strip_suffix('*') {
            Some(service) => path.starts_with(service),
            None => *rule == path,
        })
        .map(|&(_, access)| access)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn each_role_gets_what_the_issue_says() {
        assert_eq!(access("/grpc.health.v1.Health/Check"), Open);
        assert_eq!(access("/grpc.health.v1.Health/Watch"), Open);
        assert_eq!(
            access("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
            AnyToken
        );
        assert_eq!(access("/pmm.v1.Ledger/Append"), WRITER);
        assert_eq!(access("/pmm.v1.Ledger/Import"), ADMIN);
        assert_eq!(access("/pmm.v1.Ledger/Subscribe"), READER);
        assert_eq!(access("/pmm.v1.Mind/Search"), READER);
        assert_eq!(access("/pmm.v1.Minds/ListMinds"), ADMIN);
    }

    #[test]
    fn an_unlisted_path_needs_admin() {
        assert_eq!(access("/pmm.v1.Minds/Restore"), ADMIN);
        assert_eq!(access("/pmm.v1.Ledger/Append2"), ADMIN);
        assert_eq!(access("/pmm.v1.Ledger/"), ADMIN);
        assert_eq!(access(""), ADMIN);
        assert_eq!(access("/grpc.health.v1.Healthy/Check"), ADMIN);
    }

    /// Every method of every public service has its line (reaching one
    /// through the admin default would be a silent mistake).
    #[test]
    fn every_public_method_is_listed() {
        let set = prost_types::FileDescriptorSet::decode(pmm::v1::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let mut methods = 0;
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                    assert!(listed(&path).is_some(), "{path} has no line in RULES");
                    methods += 1;
                }
            }
        }
        assert!(methods >= 16, "found only {methods} methods");
    }
}
