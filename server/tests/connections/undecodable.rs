//! A request body that is not the method's message is answered
//! INVALID_ARGUMENT, naming the message expected (raw HTTP/2 requests).

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::net::TcpStream;

use crate::support::Server;

/// (grpc-status, grpc-message) of a call to `path` whose body is `body`.
async fn call(addr: SocketAddr, path: &str, body: Vec<u8>) -> (String, String) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (mut client, connection) = h2::client::handshake(tcp).await.expect("h2 handshake");
    tokio::spawn(connection);
    let request = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request");
    let (response, mut send) = client.send_request(request, false).expect("send");
    send.send_data(Bytes::from(body), true).expect("body");
    let response = response.await.expect("response");
    let (parts, mut body) = response.into_parts();
    // Trailers-only answers carry the status in the headers.
    let mut headers = parts.headers;
    if !headers.contains_key("grpc-status") {
        while let Some(chunk) = body.data().await {
            chunk.expect("data");
        }
        headers = body
            .trailers()
            .await
            .expect("trailers")
            .expect("some trailers");
    }
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    };
    (text("grpc-status"), percent_decoded(&text("grpc-message")))
}

/// grpc-message is percent-encoded.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One gRPC message frame: uncompressed, `declared` bytes long, carrying
/// `payload`.
fn frame(declared: u32, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend_from_slice(&declared.to_be_bytes());
    body.extend_from_slice(payload);
    body
}

/// Field 1 with wire type 7 (there is none), then noise.
const GARBAGE: &[u8] = &[0x0f, 0xff, 0xfe, 0x01, 0x02];

#[tokio::test]
async fn an_undecodable_request_is_invalid_argument_naming_the_expected_message() {
    let server = Server::start(|_| {}).await;
    let garbage = frame(GARBAGE.len() as u32, GARBAGE);

    let (code, message) = call(server.addr, "/pmm.v1.Ledger/Append", garbage.clone()).await;
    assert_eq!(code, "3", "{message}");
    assert!(
        message.contains("could not be decoded as pmm.v1.AppendRequest"),
        "{message}"
    );

    // A server-streaming method, and the other service.
    let (code, message) = call(server.addr, "/pmm.v1.Ledger/Subscribe", garbage.clone()).await;
    assert_eq!(code, "3", "{message}");
    assert!(message.contains("pmm.v1.SubscribeRequest"), "{message}");
    let (code, message) = call(server.addr, "/pmm.v1.Mind/GetContext", garbage).await;
    assert_eq!(code, "3", "{message}");
    assert!(message.contains("pmm.v1.GetContextRequest"), "{message}");

    // A message cut short: its frame declares more bytes than were sent.
    let (code, message) = call(server.addr, "/pmm.v1.Ledger/Head", frame(100, b"\x08")).await;
    assert_eq!(code, "3", "{message}");
    assert!(message.contains("pmm.v1.HeadRequest"), "{message}");

    // A valid message is still served.
    let (code, message) = call(server.addr, "/pmm.v1.Ledger/Head", frame(0, b"")).await;
    assert_eq!(code, "0", "{message}");
    server.stop().await;
}
