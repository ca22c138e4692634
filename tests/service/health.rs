//! Health and reflection: every public service SERVING, reflection (v1 and
//! v1alpha) listing exactly the public services.

use crate::common::server::TestServer;
use tokio_stream::StreamExt;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

#[tokio::test]
async fn health_is_serving_and_reflection_lists_only_public_services() {
    let mut s = TestServer::start().await;
    let mut health = HealthClient::new(s.channel.clone());
    for service in ["", "pmm.v1.Ledger", "pmm.v1.Mind", "pmm.v1.Minds"] {
        let r = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health")
            .into_inner();
        assert_eq!(r.status, 1, "SERVING for {service:?}");
    }
    let mut reflection = ServerReflectionClient::new(s.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("reflection")
        .into_inner();
    let response = stream.next().await.expect("a response").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "pmm.v1.Ledger",
            "pmm.v1.Mind",
            "pmm.v1.Minds"
        ]
    );

    // The same through v1alpha, all that older grpcurl and ghz speak.
    use tonic_reflection::pb::v1alpha as alpha;
    let mut old = alpha::server_reflection_client::ServerReflectionClient::new(s.channel.clone());
    let request = alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut stream = old
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("v1alpha reflection")
        .into_inner();
    let response = stream.next().await.expect("a response").expect("ok");
    let Some(alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("expected a service list");
    };
    let mut old_names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    old_names.sort();
    assert_eq!(old_names, names);
    s.stop().await;
}
