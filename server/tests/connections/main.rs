//! Connections: idle and handshake timeouts, the connection limit,
//! keep-alive, the accept loop at the open-file limit, undecodable
//! requests, and the connection lines of Stats. Loopback only; each test
//! takes a few seconds at most.

mod support;

mod emfile;
mod handshake;
mod idle;
mod keepalive;
mod limit;
mod stats;
mod undecodable;
