//! Unit tests of request validation.
